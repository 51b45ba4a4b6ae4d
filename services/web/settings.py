"""The web service's own settings (the public URL, alert thresholds, scheduler keys).

Read from the environment when asked for, frozen, with every default named here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from shared.settings import float_setting, int_setting

DEFAULT_OLDEST_MESSAGE_ALERT_S = 900  #: seconds a message may wait before it is an alert
DEFAULT_SCHEDULER_STALE_S = 300  #: seconds without a scheduler tick before it is an alert
DEFAULT_ALERT_CHECK_S = 60  #: how often the running service evaluates alerts
DEFAULT_DEAD_THRESHOLD = 1  #: dead notifications (died within the window) that are an alert
DEFAULT_DEAD_WINDOW_S = 86_400  #: the window those dead notifications died in
DEFAULT_FAILURE_RATE = 0.5  #: share of failed attempts of one provider that is an alert
DEFAULT_FAILURE_MIN_ATTEMPTS = 10  #: fewer attempts in the window say nothing of a rate
DEFAULT_FAILURE_WINDOW_S = 900  #: the window those attempts are counted in
DEFAULT_PLANNING_WINDOW_S = 3_600  #: how long a planning timeout stays an alert


@dataclass(frozen=True)
class WebSettings:
    #: LIAISON_PUBLIC_URL: the URL Twilio calls us at (scheme, host, port, no trailing
    #: slash). Twilio signs that URL, so a proxy in front must not be guessed through.
    public_url: str = ""
    oldest_message_alert_s: int = DEFAULT_OLDEST_MESSAGE_ALERT_S
    scheduler_stale_s: int = DEFAULT_SCHEDULER_STALE_S
    alert_check_s: int = DEFAULT_ALERT_CHECK_S
    dead_threshold: int = DEFAULT_DEAD_THRESHOLD
    dead_window_s: int = DEFAULT_DEAD_WINDOW_S
    failure_rate: float = DEFAULT_FAILURE_RATE
    failure_min_attempts: int = DEFAULT_FAILURE_MIN_ATTEMPTS
    failure_window_s: int = DEFAULT_FAILURE_WINDOW_S
    planning_window_s: int = DEFAULT_PLANNING_WINDOW_S
    #: LIAISON_COOKIE_SECURE: send the dashboard cookie only over HTTPS (on behind TLS)
    cookie_secure: bool = False


def load_web_settings(environ: dict[str, str] | None = None) -> WebSettings:
    env = dict(os.environ if environ is None else environ)
    return WebSettings(
        public_url=env.get("LIAISON_PUBLIC_URL", "").rstrip("/"),
        oldest_message_alert_s=int_setting(
            env, "LIAISON_ALERT_OLDEST_MESSAGE_S", DEFAULT_OLDEST_MESSAGE_ALERT_S
        ),
        scheduler_stale_s=int_setting(
            env, "LIAISON_ALERT_SCHEDULER_STALE_S", DEFAULT_SCHEDULER_STALE_S
        ),
        alert_check_s=int_setting(env, "LIAISON_ALERT_CHECK_S", DEFAULT_ALERT_CHECK_S),
        dead_threshold=int_setting(env, "LIAISON_ALERT_DEAD_THRESHOLD", DEFAULT_DEAD_THRESHOLD),
        dead_window_s=int_setting(env, "LIAISON_ALERT_DEAD_WINDOW_S", DEFAULT_DEAD_WINDOW_S),
        failure_rate=float_setting(env, "LIAISON_ALERT_FAILURE_RATE", DEFAULT_FAILURE_RATE),
        failure_min_attempts=int_setting(
            env, "LIAISON_ALERT_FAILURE_MIN_ATTEMPTS", DEFAULT_FAILURE_MIN_ATTEMPTS
        ),
        failure_window_s=int_setting(
            env, "LIAISON_ALERT_FAILURE_WINDOW_S", DEFAULT_FAILURE_WINDOW_S
        ),
        planning_window_s=int_setting(
            env, "LIAISON_ALERT_PLANNING_WINDOW_S", DEFAULT_PLANNING_WINDOW_S
        ),
        cookie_secure=env.get("LIAISON_COOKIE_SECURE", "").lower() in {"1", "true", "yes"},
    )
