"""The request mapping templates serverless-step-functions gives an http event's integration
(lib/deploy/events/apiGateway/methods.js, v3.30), as API Gateway receives them once CloudFormation
has substituted `${StateMachineArn}` and `${AccountId}` (Fn::Sub).

- the default: the request body, as JSON text, is the execution's input; the request id its name;
- `request.template: lambda_proxy`: the input is a Lambda-proxy-like event (method, path, headers,
  query string, path parameters, stage variables, request context, body), for JSON and for
  form-encoded bodies.
"""

from __future__ import annotations

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"

_DEFAULT = '\n#set( $body = $util.escapeJavaScript($input.json(\'$\')).replaceAll("\\\\\'", "\'") )\n{"input": "$body", "name": "$context.requestId", "stateMachineArn":"${StateMachineArn}"}'  # noqa: E501
_PROXY = (
    "\n"
    "  #define( $loop )\n"
    "  {\n"
    "    #foreach($key in $map.keySet())\n"
    "      #set( $k = $util.escapeJavaScript($key) )\n"
    '      #set( $v = $util.escapeJavaScript($map.get($key)).replaceAll("\\\\\'", "\'") )\n'
    '      "$k":\n'
    '        #if ("$v" == "")\n'
    "          null\n"
    "        #else\n"
    '          "$v"\n'
    "        #end\n"
    "        #if( $foreach.hasNext ) , #end\n"
    "    #end\n"
    "  }\n"
    "  #end\n"
    "  #define( $smInput )\n"
    "  {\n"
    '    "resource": "$context.resourcePath",\n'
    '    "path": "$context.path",\n'
    '    "httpMethod": "$context.httpMethod",\n'
    "    #set( $map = $input.params().header )\n"
    '    "headers": $loop,\n'
    "\n"
    "    #if ($input.params().querystring.size() == 0)\n"
    '    "queryStringParameters": null,\n'
    "    #else\n"
    "    #set( $map = $input.params().querystring )\n"
    '    "queryStringParameters": $loop,\n'
    "    #end\n"
    "\n"
    "    #if ($input.params().path.size() == 0)\n"
    '    "pathParameters": null,\n'
    "    #else\n"
    "    #set( $map = $input.params().path )\n"
    '    "pathParameters": $loop,\n'
    "    #end\n"
    "\n"
    "    #if ($stageVariables.size() == 0)\n"
    '    "stageVariables": null,\n'
    "    #else\n"
    "    #set( $map = $stageVariables )\n"
    '    "stageVariables": $loop,\n'
    "    #end\n"
    "\n"
    '    "requestContext": {\n'
    '      "resourceId": "$context.resourceId",\n'
    '      "resourcePath": "$context.resourcePath",\n'
    '      "httpMethod": "$context.httpMethod",\n'
    '      "extendedRequestId": "$context.extendedRequestId",\n'
    '      "requestTime": "$context.requestTime",\n'
    '      "path": "$context.path",\n'
    '      "accountId": "${AccountId}",\n'
    '      "protocol": "$context.protocol",\n'
    '      "stage": "$context.stage",\n'
    '      "domainPrefix": "$context.domainPrefix",\n'
    '      "requestTimeEpoch": $context.requestTimeEpoch,\n'
    '      "requestId": "$context.requestId",\n'
    "      #set( $map = $context.identity )\n"
    '      "identity": $loop,\n'
    '      "domainName": "$context.domainName",\n'
    "      #set( $map = $context.authorizer )\n"
    '      "authorizer": $loop,\n'
    '      "apiId": "$context.apiId"\n'
    "    },\n"
    '    "body": "$util.escapeJavaScript("$body").replaceAll("\\\\\'", "\'")",\n'
    '    "isBase64Encoded": false\n'
    "  }\n"
    "  #end\n"
    "  {\n"
    '    "input": "$util.escapeJavaScript("$smInput").replaceAll("\\\\\'", "\'")",\n'
    '    "name":"$context.requestId",\n'
    '    "stateMachineArn":"${StateMachineArn}"\n'
    "  }"
)
_PROXY_JSON_PREFIX = "\n  #set( $body = $input.body )\n  "
_PROXY_FORM_PREFIX = (
    "\n"
    "  #define( $body )\n"
    "    {\n"
    "    #foreach( $token in $input.path('$').split('&') )\n"
    "      #set( $keyVal = $token.split('=') )\n"
    "      #set( $keyValSize = $keyVal.size() )\n"
    "      #if( $keyValSize >= 1 )\n"
    "        #set( $key = $util.escapeJavaScript($util.urlDecode($keyVal[0])) )\n"
    "        #if( $keyValSize >= 2 )\n"
    '          #set($val = $util.escapeJavaScript($util.urlDecode($keyVal[1])).replaceAll("\\\\\'","\'"))\n'  # noqa: E501
    "        #else\n"
    "          #set( $val = '' )\n"
    "        #end\n"
    '        "$key": "$val"#if($foreach.hasNext),#end\n'
    "      #end\n"
    "    #end\n"
    "    }\n"
    "  #end\n"
    "  "
)


def _sub(template: str, **values: str) -> str:
    for name, value in values.items():
        template = template.replace("${" + name + "}", value)
    return template


def default_templates(state_machine_arn: str) -> dict[str, str]:
    text = _sub(_DEFAULT, StateMachineArn=state_machine_arn)
    return {JSON: text, FORM: text}


def lambda_proxy_templates(state_machine_arn: str, account_id: str) -> dict[str, str]:
    values = {"StateMachineArn": state_machine_arn, "AccountId": account_id}
    return {
        JSON: _sub(_PROXY_JSON_PREFIX + _PROXY, **values),
        FORM: _sub(_PROXY_FORM_PREFIX + _PROXY, **values),
    }
