"""Container image functions (`image:`), read as Serverless v3 reads them
(lib/plugins/aws/provider.js resolveImageUriAndSha, package/compile/functions.js).

A function's `image` is an ECR image URI, the name of an image in `provider.ecr.images`, or a
mapping with `uri` or `name` and the image's `command`, `entryPoint` and `workingDirectory`
(Lambda's ImageConfig). An image of `provider.ecr.images` is a `uri`, or a `path` Serverless
builds with Docker and pushes to ECR. The toolkit drives no Docker: an image to build is refused
at its line, saying how to give its URI instead. A URI's region must be the service's (as
Serverless refuses it otherwise). A URI with a tag is resolved to its digest at deploy, on the
AWS target (ECR DescribeImages, as Serverless resolves it), so that a new push under the same
tag is a code change.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tooling.errors import BadInput, ConfigError, Where
from tooling.sourcemap import pointer_join

# Serverless v3's isEcrUri (provider.js): an ECR registry's URI, or any `name@sha256:<digest>`.
_ECR_URI = re.compile(
    r"^\d+\.dkr\.ecr\.[a-z0-9-]+..amazonaws.com/([^@]+)|([^@:]+@sha256:[a-f0-9]{64})$"
)
_REGISTRY_REGION = re.compile(r"^\d+\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com/")
_IMAGE_NAME = re.compile(r"^[a-z][a-z0-9-_]{1,31}$")  # Serverless' imageNamePattern
IMAGE_KEYS = ("uri", "name", "command", "entryPoint", "workingDirectory")
ECR_IMAGE_KEYS = ("uri", "path", "file", "buildArgs", "cacheFrom", "platform")
Locate = Callable[[str], Where]


@dataclass(frozen=True)
class FunctionImage:
    """What Lambda runs for a container image function."""

    uri: str  # as written: `<registry>/<repository>@sha256:<digest>` or `...:<tag>`
    command: tuple[str, ...] | None = None
    entry_point: tuple[str, ...] | None = None
    working_directory: str | None = None

    def image_config(self) -> dict[str, Any]:
        """Lambda's ImageConfig: the settings given (an empty one resets them)."""
        config: dict[str, Any] = {}
        if self.command is not None:
            config["Command"] = list(self.command)
        if self.entry_point is not None:
            config["EntryPoint"] = list(self.entry_point)
        if self.working_directory is not None:
            config["WorkingDirectory"] = self.working_directory
        return config


def is_ecr_uri(text: str) -> bool:
    return bool(_ECR_URI.search(text))


@dataclass
class ImageReader:
    """Reads one function's `image` against `provider.ecr` (resolved values)."""

    function_key: str
    at: Locate
    region: str
    ecr: Mapping[str, Any]  # provider.ecr

    def _error(self, pointer: str, message: str, hint: str | None = None) -> BadInput:
        return ConfigError(
            f"function '{self.function_key}': {message}", hint=hint, **self.at(pointer)
        )

    def read(self, value: Any, pointer: str) -> FunctionImage:
        uri: Any = None
        name: Any = None
        settings: Mapping[str, Any] = {}
        if isinstance(value, dict):
            for key in value:
                if key not in IMAGE_KEYS:
                    raise self._error(
                        pointer_join(pointer, str(key)),
                        f"image key `{key}` is not one Serverless allows",
                        "allowed: " + ", ".join(IMAGE_KEYS),
                    )
            if (value.get("uri") is None) == (value.get("name") is None):
                raise self._error(
                    pointer,
                    'either "uri" or "name" (not both) needs to be set on the image, as '
                    "Serverless says",
                )
            uri, name, settings = value.get("uri"), value.get("name"), value
        elif isinstance(value, str) and is_ecr_uri(value):
            uri = value
        elif isinstance(value, str):
            name = value
        else:
            raise self._error(pointer, "image must be an ECR image URI, an image name or a mapping")
        if name is not None:
            uri, pointer = self._named(str(name), pointer)
        if not isinstance(uri, str) or not uri:
            raise self._error(pointer, "the image URI must be text")
        self._check_region(uri, pointer)
        return FunctionImage(
            uri=uri,
            command=self._words(settings, "command", pointer),
            entry_point=self._words(settings, "entryPoint", pointer),
            working_directory=self._text(settings, "workingDirectory", pointer),
        )

    def _named(self, name: str, pointer: str) -> tuple[Any, str]:
        """The URI of `provider.ecr.images.<name>`, and where it is written."""
        images = self.ecr.get("images") if isinstance(self.ecr, dict) else None
        if not isinstance(images, dict) or name not in images:
            raise self._error(
                pointer,
                f'image "{name}" is not defined in provider.ecr.images',
                "define it there (`uri:` of an image in ECR), or give the image's URI here",
            )
        here = f"/provider/ecr/images/{name}"
        spec = images[name]
        if isinstance(spec, str) and is_ecr_uri(spec):
            return spec, here
        if isinstance(spec, dict):
            for key in spec:
                if key not in ECR_IMAGE_KEYS:
                    raise self._error(
                        pointer_join(here, str(key)),
                        f"provider.ecr.images.{name}: key `{key}` is not one Serverless allows",
                        "allowed: " + ", ".join(ECR_IMAGE_KEYS),
                    )
            if spec.get("uri") is not None and spec.get("path") is not None:
                raise self._error(
                    here, f'image "{name}": either "uri" or "path" (not both), as Serverless says'
                )
            if spec.get("uri") is not None:
                for key in ("buildArgs", "cacheFrom", "platform"):
                    if key in spec:
                        raise self._error(
                            pointer_join(here, key),
                            f'image "{name}": "{key}" cannot be used with "uri" (Serverless '
                            "refuses it)",
                        )
                return spec["uri"], pointer_join(here, "uri")
            if spec.get("path") is not None:
                here = pointer_join(here, "path")
        if not _IMAGE_NAME.match(name):
            raise self._error(here, f'image name "{name}" is not one Serverless allows')
        raise self._error(
            here,
            f'image "{name}" is built from a folder, with Docker, by Serverless; the toolkit '
            "runs no Docker",
            "build and push it yourself (`docker build`, `docker push` to ECR), then give "
            f"provider.ecr.images.{name}.uri",
        )

    def _check_region(self, uri: str, pointer: str) -> None:
        found = _REGISTRY_REGION.match(uri)
        if found and "@" not in uri and found["region"] != self.region:
            raise self._error(
                pointer,
                f'the region "{found["region"]}" of the ECR image "{uri}" must match the '
                f'provider region "{self.region}" (Serverless refuses it)',
            )

    def _words(self, settings: Mapping[str, Any], key: str, pointer: str) -> tuple[str, ...] | None:
        value = settings.get(key)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self._error(pointer_join(pointer, key), f"image.{key} must be a list of strings")
        return tuple(value)

    def _text(self, settings: Mapping[str, Any], key: str, pointer: str) -> str | None:
        value = settings.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self._error(pointer_join(pointer, key), f"image.{key} must be text")
        return value
