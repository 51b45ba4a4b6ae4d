"""Photos sent from the liaison's page: checked, re-encoded and stored beside the database.

A photo is evidence of a visit, and a phone's photo also says where it was taken (EXIF
GPS). It is decoded with Pillow under a pixel limit (a small file that inflates to a
huge image is refused, not decoded), turned upright, shrunk to at most 2048 px, and
written as a new JPEG: only what we write is kept, so nothing hidden in the upload
survives. The location is dropped unless the member's organization keeps it (policy
`page_photos.keep_location`, off by default).
"""

from __future__ import annotations

import io
import os
import uuid
import warnings
from datetime import date
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import Connection, select

from shared.errors import LiaisonError
from shared.models import PolicyOverride, Rule

ACCEPTED_FORMATS = frozenset({"JPEG", "PNG", "WEBP"})
MAX_PIXELS = 40_000_000  #: pixels: a 48 MP phone camera is refused only above this
MAX_SIDE_PX = 2048  #: pixels: the stored photo's longest side
JPEG_QUALITY = 85
GPS_IFD = 0x8825  #: the EXIF tag of the GPS block
POLICY_RULE, POLICY_PARAM = "page_photos", "keep_location"
#: the policy row migration 0008 seeds (`liaison policy set … page_photos.keep_location=true`)
PAGE_PHOTOS_ROW = {
    "name": POLICY_RULE,
    "strategy": "message",
    "enabled": True,
    "priority": 1060,
    "params": {POLICY_PARAM: False},
    "description": "photos from the liaison's page keep their EXIF location",
    "seed": "",
}


class PhotoRefused(LiaisonError):
    """Raised when an uploaded photo is not an image we accept."""


def keeps_location(conn: Connection, lineage: list[str]) -> bool:
    """Whether photos of members of the first organization of `lineage` keep their GPS:
    the nearest override in the lineage, else the rule's default (off when not seeded)."""
    overrides: dict[str, Any] = dict(
        conn.execute(
            select(PolicyOverride.org, PolicyOverride.value).where(
                PolicyOverride.rule == POLICY_RULE,
                PolicyOverride.param == POLICY_PARAM,
                PolicyOverride.org.in_(lineage),
            )
        ).all()
    )
    for org in lineage:
        if org in overrides:
            return bool(overrides[org])
    params = conn.execute(select(Rule.params).where(Rule.name == POLICY_RULE)).scalar()
    return bool((params or {}).get(POLICY_PARAM, False))


def store_photo(data: bytes, photos_dir: Path, day: date, *, keep_location: bool) -> str:
    """Write the photo under `photos_dir/<YYYY-MM>/`; returns its name relative to it."""
    image = _decode(data)
    exif = image.getexif()
    upright = ImageOps.exif_transpose(image)  # orientation is baked in, its tag dropped
    upright.thumbnail((MAX_SIDE_PX, MAX_SIDE_PX))
    kept = Image.Exif()
    if keep_location and GPS_IFD in exif:
        kept[GPS_IFD] = dict(exif.get_ifd(GPS_IFD))  # the GPS block, written out whole
    folder = photos_dir / f"{day:%Y-%m}"
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{day:%Y-%m}/{uuid.uuid4().hex}.jpg"
    partial = photos_dir / (name + ".part")
    upright.convert("RGB").save(partial, "JPEG", quality=JPEG_QUALITY, exif=kept.tobytes())
    os.replace(partial, photos_dir / name)  # never a half-written photo under its name
    return name


def _decode(data: bytes) -> Image.Image:
    with warnings.catch_warnings():
        # Pillow only warns past its own pixel limit (and refuses at twice it); refuse both.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data))  # reads the header only
            if image.format not in ACCEPTED_FORMATS:
                raise PhotoRefused(f"photo format {image.format} is not accepted")
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise PhotoRefused("the photo has too many pixels")
            image.load()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise PhotoRefused("the photo has too many pixels") from exc
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            raise PhotoRefused("the photo cannot be read as an image") from exc
    return image
