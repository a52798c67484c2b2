"""Image uploads: verified as real images, re-encoded without EXIF/GPS, stored under UPLOAD_FOLDER."""

from __future__ import annotations

import io
import uuid
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

ALLOWED_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
MAX_EDGE_PX = 2400
MAX_PIXELS = 60_000_000


class UploadError(ValueError):
    """The upload was refused; the message is shown to the user."""


def upload_root() -> Path:
    return Path(current_app.config["UPLOAD_FOLDER"])


def save_image(file_storage, folder: str) -> str:
    """Check, shrink and re-encode an uploaded image; return its path relative to the upload root."""
    data = file_storage.read()
    limit = current_app.config["UPLOAD_MAX_IMAGE_BYTES"]
    if not data:
        raise UploadError(_("上传的文件是空的"))
    if len(data) > limit:
        raise UploadError(_("图片不能超过 %(mb)d MB", mb=limit // (1024 * 1024)))
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.width * probe.height > MAX_PIXELS:  # before decoding: a small file can hold a huge image
                raise UploadError(_("图片尺寸过大"))
            probe.verify()
        image = Image.open(io.BytesIO(data))
        image.load()
    except Image.DecompressionBombError:
        raise UploadError(_("图片尺寸过大")) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise UploadError(_("无法识别的图片，请上传 JPEG、PNG 或 WebP 格式")) from None
    if image.format not in ALLOWED_FORMATS:
        raise UploadError(_("仅支持 JPEG、PNG 或 WebP 格式的图片"))

    extension = ALLOWED_FORMATS[image.format]
    if image.width * image.height > MAX_PIXELS:
        raise UploadError(_("图片尺寸过大"))
    # Re-encoding drops EXIF (including GPS) after applying its rotation to the pixels.
    image = ImageOps.exif_transpose(image)
    image.thumbnail((MAX_EDGE_PX, MAX_EDGE_PX))
    if extension == "jpg" and image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    relative = f"{folder}/{uuid.uuid4().hex}.{extension}"
    target = upload_root() / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    save_kwargs = {"quality": 85} if extension in ("jpg", "webp") else {"optimize": True}
    image.save(target, format=_pil_format(extension), **save_kwargs)
    return relative


def _pil_format(extension: str) -> str:
    return {v: k for k, v in ALLOWED_FORMATS.items()}[extension]


def delete_upload(relative: str | None) -> None:
    """Remove a stored upload if it exists (best effort: a missing file is not an error)."""
    if relative:
        (upload_root() / relative).unlink(missing_ok=True)
