"""One Settings object for the whole service (env prefix GATEKEEPER_), built once and passed down."""

from __future__ import annotations

from email.utils import formataddr, parseaddr
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from gatekeeper.domain.vocabulary import (
    Channel,
    ChannelRule,
    CoverMode,
    ImageFormat,
    NameRule,
    RotationMode,
    StoreBackend,
)

DEFAULT_MAIL_FROM = "Gatekeeper <gatekeeper@localhost>"


class Settings(BaseSettings):
    """Every tunable of Gatekeeper, with the embedded defaults `make run` uses."""

    model_config = SettingsConfigDict(env_prefix="GATEKEEPER_", extra="ignore")

    home: Path = Field(default=Path("gatekeeper-data"))
    database_url: str | None = None  # default: sqlite file inside home
    queue_url: str | None = None  # default: huey on a sqlite file inside home

    store_backend: StoreBackend = StoreBackend.LOCAL
    s3_endpoint_url: str | None = None
    s3_region: str = "eu-west-2"
    s3_private_bucket: str = "gatekeeper-originals"
    s3_public_bucket: str = "gatekeeper-public"

    # Matching: a face is identified only when best distance <= tolerance and every other
    # person is at least `margin` farther away (see docs/developers/engine.md).
    match_tolerance: float = 0.5
    match_margin: float = 0.08
    min_face_px: int = 40  # smaller faces are covered as unidentifiable
    # Laplacian std-dev of the 64x64 face crop: below min_sharpness a face is too blurred to
    # identify; below sharp_from it is soft (a stricter margin, never a template)
    min_sharpness: float = 5.0
    sharp_from: float = 7.0
    detect_threshold: float = 0.35  # CenterFace heat-map score
    detect_max_side: int = 2048  # detection runs on the photo scaled to this long side
    detect_rotations: RotationMode = RotationMode.UNTAGGED  # also try 90/270 turns

    max_image_pixels: int = 80_000_000  # larger images are refused as decompression bombs
    max_upload_bytes: int = 60_000_000
    # Video (MP4, MOV, M4V): longer or larger movies are refused at upload.
    video_max_seconds: float = 600
    video_max_side: int = 4096  # 4K (3840x2160 or DCI 4096x2160)
    video_max_pixels: int = 4096 * 2160
    video_scan_fps: float = 5.0  # frames a second searched for faces (at most every frame, at least 1 in 12)
    video_crf: int = 23  # H.264 quality of published videos (lower: better, larger)

    cover_mode: CoverMode = CoverMode.SOLID
    publish_max_side: int = 2048  # online
    publish_max_side_other: int = 4096  # display and print
    png_channels: str = ""  # comma-separated channels published as PNG instead of JPEG
    publish_quality: int = 88
    retention_years_with_consent: int = 3
    retention_grace_days: int = 30
    academic_year_start_month: int = 9
    academic_year_start_day: int = 1

    daily_hour: int = 2  # the daily purge and clean-up run at this local time
    daily_minute: int = 30
    # The daily job also writes a backup here (embedded instance only), keeping the newest few.
    backup_dir: Path | None = None
    backup_keep: int = 7
    scan_stuck_after_s: int = 60  # a photo `scanning` this long was left by a dead worker
    workers: int = 1  # scanning worker processes started by `gatekeeper serve` / `worker`

    public_file_mode: int = 0o644  # published files: readable by a web server of another user
    public_dir_mode: int = 0o755

    operator: str | None = None  # named in the audit of CLI commands run without --by

    # The consent portal: links in invitations point here; mail goes by SMTP when set,
    # otherwise to <home>/outbox/ as .eml files.
    # No default: a link to this machine's own address reaches no parent, and links are single-use.
    public_url: str | None = None
    smtp_url: str | None = None
    mail_from: str = DEFAULT_MAIL_FROM
    # The school's name, as parents know it: the sender's display name (unless mail_from names
    # another), the invitations' subject and the portal's title.
    school_name: str | None = None
    invitation_days: int = 7  # a portal link expires after this many days (and after one use)
    portal_session_max_age_s: int = 3600

    host: str = "127.0.0.1"
    port: int = 8000
    secret_key: str | None = None
    session_max_age_s: int = 8 * 3600
    https_only: bool = False  # set when served over HTTPS: session cookie gets Secure

    @model_validator(mode="after")
    def _school_sends(self) -> Settings:
        """Parents see the school's name as the sender, not "Gatekeeper", unless the school
        chose a sender name of its own."""
        name, address = parseaddr(self.mail_from)
        if self.school_name and name == parseaddr(DEFAULT_MAIL_FROM)[0] and address:
            self.mail_from = formataddr((self.school_name, address))
        return self

    @property
    def resolved_database_url(self) -> str:
        """The configured database, or a SQLite file inside the instance home."""
        return self.database_url or f"sqlite:///{(self.home / 'gatekeeper.db').resolve()}"

    def channel_rule(self, channel: Channel) -> ChannelRule:
        """The one per-channel table: long side, file format and which names are forbidden."""
        wanted = {c.strip().lower() for c in self.png_channels.split(",") if c.strip()}
        online = channel is Channel.ONLINE
        return ChannelRule(
            channel=channel,
            max_side=self.publish_max_side if online else self.publish_max_side_other,
            image_format=ImageFormat.PNG if channel.value in wanted else ImageFormat.JPEG,
            names=NameRule.NO_FAMILY_NAME if online else NameRule.NO_FULL_NAME,
        )

    @property
    def year_start(self) -> tuple[int, int]:
        """(month, day) on which the academic year starts."""
        return (self.academic_year_start_month, self.academic_year_start_day)

    @property
    def private_dir(self) -> Path:
        return self.home / "private"

    @property
    def public_dir(self) -> Path:
        return self.home / "public"
