"""Settings, read from the environment when asked for (never at import) and frozen.

Every setting liaison reads is named here, with its default, so that `.env.example`
and the README can list them from one place.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from shared.errors import ConfigurationError

DEFAULT_TIMEZONE = "Asia/Shanghai"
DEFAULT_LOCALE = "zh-CN"
DEFAULT_PHONE_REGION = "CN"


def int_setting(env: Mapping[str, str], name: str, default: int) -> int:
    """The whole number `name` holds in `env`; `default` when unset or empty; a
    `ConfigurationError` naming the setting when it is not a whole number."""
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigurationError(f"{name} must be a whole number, got {raw!r}") from exc


def float_setting(env: Mapping[str, str], name: str, default: float) -> float:
    """The number `name` holds in `env`, as `int_setting` does for whole numbers."""
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ConfigurationError(f"{name} must be a number, got {raw!r}") from exc


@dataclass(frozen=True)
class Settings:
    """What one liaison process is configured to do."""

    home: Path = Path("var")  #: working directory for the embedded defaults
    database_url: str = ""  #: LIAISON_DATABASE_URL; empty means SQLite under `home`
    redis_url: str = ""  #: LIAISON_REDIS_URL; empty means an embedded redis-server under `home`
    #: LIAISON_SMS_PROVIDER (older name LIAISON_SMS_SENDER): twilio | aliyun | outbox; the
    #: installation's default, which an organization's `sms_route.provider` policy overrides
    sms_sender: str = "outbox"
    email_sender: str = "outbox"  #: LIAISON_EMAIL_SENDER: smtp | outbox
    twilio_account_sid: str = ""
    twilio_auth_token: str = field(default="", repr=False)
    twilio_from_number: str = ""
    twilio_messaging_service_sid: str = ""
    twilio_status_callback_url: str = ""
    twilio_base_url: str = ""  #: only for tests and private gateways; empty = Twilio itself
    twilio_timeout_s: float = 10.0
    aliyun_access_key_id: str = ""  #: ALIBABA_CLOUD_ACCESS_KEY_ID
    aliyun_access_key_secret: str = field(default="", repr=False)
    aliyun_sign_name: str = ""  #: LIAISON_ALIYUN_SIGN_NAME: the approved signature (签名)
    #: LIAISON_ALIYUN_TEMPLATE_CODES: `kind=SMS_123,kind=SMS_456`, approved template codes
    aliyun_template_codes: str = ""
    aliyun_endpoint: str = ""  #: LIAISON_ALIYUN_ENDPOINT: tests only; empty = dysmsapi.aliyuncs.com
    aliyun_timeout_s: float = 10.0
    #: LIAISON_ALIYUN_RECEIPT_SECRET: the secret path segment of the SmsReport push URL
    aliyun_receipt_secret: str = field(default="", repr=False)
    wecom_corp_id: str = ""  #: LIAISON_WECOM_CORP_ID
    wecom_secret: str = field(default="", repr=False)  #: LIAISON_WECOM_SECRET (the app's)
    wecom_agent_id: str = ""  #: LIAISON_WECOM_AGENT_ID
    wecom_base_url: str = ""  #: LIAISON_WECOM_BASE_URL: tests only; empty = qyapi.weixin.qq.com
    wecom_timeout_s: float = 10.0
    wecom_rate_per_s: float = 10.0
    wecom_concurrency: int = 5
    #: LIAISON_OPS_WECOM_WEBHOOK: a WeCom group robot's webhook URL for ops alerts
    ops_wecom_webhook: str = field(default="", repr=False)
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_username: str = ""
    smtp_password: str = field(default="", repr=False)
    smtp_security: str = "starttls"  #: starttls | tls | none
    smtp_from: str = ""
    smtp_timeout_s: float = 10.0
    sms_rate_per_s: float = 10.0  #: messages per second across all workers
    sms_concurrency: int = 10  #: requests in flight across all workers
    email_rate_per_s: float = 5.0
    email_concurrency: int = 5
    max_retries: int = 8
    #: LIAISON_STALE_SENDING_S: seconds after which a row left in 'sending' by a lost worker
    #: is taken as abandoned and dead-lettered with its reason
    stale_sending_s: int = 900
    min_backoff_ms: int = 15_000
    max_backoff_ms: int = 3_600_000
    #: LIAISON_REQUEUE_INTERVAL_S: how often each worker returns a dead worker's messages
    requeue_interval_s: float = 15.0
    templates_dir: str = ""  #: LIAISON_TEMPLATES_DIR: operator overrides, rendered sandboxed
    ops_email: str = ""
    log_level: str = "INFO"
    #: LIAISON_QUIET_HOURS: local hours in which workers hold messages back, "21:00-08:00";
    #: "off" sends at any hour (organizations' own quiet hours still shape the planning)
    quiet_hours: str = "21:00-08:00"
    #: LIAISON_PLANNING_TIMEOUT_S: the longest `liaison scheduler --distribute` waits for
    #: the workers to plan one tick's shards before it gives the tick up (and retries it)
    planning_timeout_s: float = 600.0
    #: LIAISON_CLOCK_FILE: a rehearsal clock shared by processes (shared.clock.FileClock);
    #: for tests and dry rehearsals only, never in production
    clock_file: str = ""

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'liaison.sqlite3').resolve()}"

    @property
    def uses_embedded_database(self) -> bool:
        return not self.database_url or self.database_url.startswith("sqlite")

    @property
    def outbox_dir(self) -> Path:
        return self.home / "outbox"


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    """Read the settings from `environ` (default: the process environment)."""
    env = dict(os.environ if environ is None else environ)
    return Settings(
        home=Path(env.get("LIAISON_HOME", "var")),
        database_url=env.get("LIAISON_DATABASE_URL", ""),
        redis_url=env.get("LIAISON_REDIS_URL", ""),
        sms_sender=env.get("LIAISON_SMS_PROVIDER")
        or env.get("LIAISON_SMS_SENDER", "twilio" if env.get("TWILIO_ACCOUNT_SID") else "outbox"),
        email_sender=env.get(
            "LIAISON_EMAIL_SENDER", "smtp" if env.get("LIAISON_SMTP_HOST") else "outbox"
        ),
        twilio_account_sid=env.get("TWILIO_ACCOUNT_SID", ""),
        twilio_auth_token=env.get("TWILIO_AUTH_TOKEN", ""),
        twilio_from_number=env.get("TWILIO_FROM_NUMBER", ""),
        twilio_messaging_service_sid=env.get("TWILIO_MESSAGING_SERVICE_SID", ""),
        twilio_status_callback_url=env.get("TWILIO_STATUS_CALLBACK_URL", ""),
        twilio_base_url=env.get("LIAISON_TWILIO_BASE_URL", ""),
        twilio_timeout_s=float_setting(env, "LIAISON_TWILIO_TIMEOUT_S", 10.0),
        aliyun_access_key_id=env.get("ALIBABA_CLOUD_ACCESS_KEY_ID", ""),
        aliyun_access_key_secret=env.get("ALIBABA_CLOUD_ACCESS_KEY_SECRET", ""),
        aliyun_sign_name=env.get("LIAISON_ALIYUN_SIGN_NAME", ""),
        aliyun_template_codes=env.get("LIAISON_ALIYUN_TEMPLATE_CODES", ""),
        aliyun_endpoint=env.get("LIAISON_ALIYUN_ENDPOINT", ""),
        aliyun_timeout_s=float_setting(env, "LIAISON_ALIYUN_TIMEOUT_S", 10.0),
        aliyun_receipt_secret=env.get("LIAISON_ALIYUN_RECEIPT_SECRET", ""),
        wecom_corp_id=env.get("LIAISON_WECOM_CORP_ID", ""),
        wecom_secret=env.get("LIAISON_WECOM_SECRET", ""),
        wecom_agent_id=env.get("LIAISON_WECOM_AGENT_ID", ""),
        wecom_base_url=env.get("LIAISON_WECOM_BASE_URL", ""),
        wecom_timeout_s=float_setting(env, "LIAISON_WECOM_TIMEOUT_S", 10.0),
        wecom_rate_per_s=float_setting(env, "LIAISON_WECOM_RATE_PER_S", 10.0),
        wecom_concurrency=int_setting(env, "LIAISON_WECOM_CONCURRENCY", 5),
        ops_wecom_webhook=env.get("LIAISON_OPS_WECOM_WEBHOOK", ""),
        smtp_host=env.get("LIAISON_SMTP_HOST", ""),
        smtp_port=int_setting(env, "LIAISON_SMTP_PORT", 587),
        smtp_username=env.get("LIAISON_SMTP_USERNAME", ""),
        smtp_password=env.get("LIAISON_SMTP_PASSWORD", ""),
        smtp_security=env.get("LIAISON_SMTP_SECURITY", "starttls"),
        smtp_from=env.get("LIAISON_SMTP_FROM", ""),
        smtp_timeout_s=float_setting(env, "LIAISON_SMTP_TIMEOUT_S", 10.0),
        sms_rate_per_s=float_setting(env, "LIAISON_SMS_RATE_PER_S", 10.0),
        sms_concurrency=int_setting(env, "LIAISON_SMS_CONCURRENCY", 10),
        email_rate_per_s=float_setting(env, "LIAISON_EMAIL_RATE_PER_S", 5.0),
        email_concurrency=int_setting(env, "LIAISON_EMAIL_CONCURRENCY", 5),
        max_retries=int_setting(env, "LIAISON_MAX_RETRIES", 8),
        stale_sending_s=int_setting(env, "LIAISON_STALE_SENDING_S", 900),
        min_backoff_ms=int_setting(env, "LIAISON_MIN_BACKOFF_MS", 15_000),
        max_backoff_ms=int_setting(env, "LIAISON_MAX_BACKOFF_MS", 3_600_000),
        requeue_interval_s=float_setting(env, "LIAISON_REQUEUE_INTERVAL_S", 15.0),
        templates_dir=env.get("LIAISON_TEMPLATES_DIR", ""),
        ops_email=env.get("LIAISON_OPS_EMAIL", ""),
        log_level=env.get("LIAISON_LOG_LEVEL", "INFO"),
        quiet_hours=env.get("LIAISON_QUIET_HOURS", "21:00-08:00"),
        planning_timeout_s=float_setting(env, "LIAISON_PLANNING_TIMEOUT_S", 600.0),
        clock_file=env.get("LIAISON_CLOCK_FILE", ""),
    )
