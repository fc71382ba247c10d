"""Which module defines each command, so that `tool NAME ...` imports that module alone (every
command module costs start-up time; `tool --help` and completion still import them all, through
tooling.cli.commands). tests/cli/test_startup.py checks this table against the commands."""

COMMAND_HOMES = {
    "deploy": "service_commands",
    "plan": "service_commands",
    "remove": "service_commands",
    "info": "service_commands",
    "invoke": "service_commands",
    "run": "service_commands",
    "executions": "service_commands",
    "history": "service_commands",
    "stop": "service_commands",
    "logs": "service_commands",
    "package": "package_cmd",
    "validate": "validate_cmd",
    "graph": "graph_cmd",
    "send": "queue_cmd",
    "worker": "queue_cmd",
    "queue": "queue_cmd",
    "serve": "serve_cmd",
    "task": "task_cmd",
    "local": "local_cmd",
}
