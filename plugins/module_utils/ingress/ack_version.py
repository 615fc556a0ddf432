# Copyright: ack-runbooks contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Versions of ACK components read from their image tags, compared the way ACK does.

ACK tags its builds of upstream components as ``<upstream version>-<ACK build>``
(``0.12.0-5``), ``v<upstream>-aliyun.<build>`` (``v1.2.1-aliyun.1``) or with the
build as a fourth number (``0.44.0.5-8e7c6dc-aliyun``). ACK orders them by the
numeric components, then by the build number. That is not semver: for semver
``0.12.0-5`` is a pre-release, *older* than ``0.12.0``; for ACK it is build 5
of 0.12.0, *newer* than build 0 (the untagged upstream release).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ansible_collections.ackops.runbooks.plugins.module_utils.common.errors import RunbookError

TAG_PATTERN = re.compile(r"^[vV]?(?P<numbers>\d+(?:\.\d+)*)(?:[-+_.](?P<suffix>.*))?$")
SUFFIX_SEPARATORS = re.compile(r"[-+_.]")


class VersionError(RunbookError, ValueError):
    """A tag that carries no version (``latest``, a digest, a branch name)."""


@dataclass(frozen=True, order=True)
class AckVersion:
    """Upstream version numbers (at least three) and the ACK build number."""

    numbers: tuple[int, ...]
    build: int = 0
    tag: str = field(default="", compare=False)

    def __str__(self) -> str:
        return ".".join(str(n) for n in self.numbers) + f"-{self.build}"


def parse_tag(tag: str) -> AckVersion:
    """Parse an image tag; raise VersionError when it holds no version."""
    match = TAG_PATTERN.match(tag.strip())
    if not match:
        raise VersionError(f"image tag {tag!r} carries no version")
    numbers = [int(n) for n in match.group("numbers").split(".")]
    build = 0
    if len(numbers) > 3:
        # 0.44.0.5-...: the fourth number is the ACK build.
        build = numbers[3]
        numbers = numbers[:3]
    else:
        # 0.12.0-5 or v1.2.1-aliyun.1: the first all-digit field of the suffix
        # (a commit id such as 8e7c6dc is not one).
        fields = SUFFIX_SEPARATORS.split(match.group("suffix") or "")
        build = next((int(f) for f in fields if f.isdigit()), 0)
    while len(numbers) < 3:
        numbers.append(0)
    return AckVersion(tuple(numbers), build, tag)


def image_tag(image: str) -> str | None:
    """The tag of an image reference, None when it has none (digest only or implicit latest)."""
    reference = image.split("@", 1)[0]
    if ":" not in reference:
        return None
    tag = reference.rpartition(":")[2]
    if "/" in tag:  # no colon, or the colon was a registry port
        return None
    return tag


def version_gate(image: str, minimum: str) -> dict:
    """Whether the image's version is at least ``minimum`` (None when it has no version)."""
    tag = image_tag(image)
    wanted = parse_tag(minimum)
    result = {
        "image": image,
        "tag": tag,
        "version": None,
        "minimum": minimum,
        "supported": None,
        "reason": "",
    }
    try:
        if tag is None:
            raise VersionError(f"image {image} has no tag")
        found = parse_tag(tag)
    except VersionError as exc:
        result["reason"] = f"{exc}: cannot tell whether it is at least {minimum}"
        return result
    result["version"] = str(found)
    result["supported"] = found >= wanted
    relation = "at least" if result["supported"] else "older than"
    result["reason"] = f"{tag} (ACK {found}) is {relation} {minimum} (ACK {wanted})"
    return result
