"""An organization's SMS route as policy: provider, signature and template codes.

The `sms_route` row of the `rules` table (strategy `message`, seeded by migration 0006)
holds the installation-wide defaults, all empty: "use LIAISON_SMS_PROVIDER, its
signature and template codes". Any organization overrides them for its subtree like any
policy parameter, and the nearest ancestor's value wins:

    liaison policy set --org TH-XC sms_route.provider=aliyun
    liaison policy set --org TH-XC sms_route.sign_name='"红旗镇党委"'
    liaison policy set --org TH-XC sms_route.template_codes='{"liaison_digest": "SMS_4657"}'

At planning time the route of the recipient's organization is put into the notification's
data (`data["sms_route"]`, see `sms_route_from_policy`), so that the sender that
delivers it needs no database: `senders.routing` picks the provider, the Alibaba Cloud
sender reads the signature and template code. A malformed value (an unknown provider, a
template-code map that is not a map) is logged and left out rather than stopping the
organization's reminders.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

log = logging.getLogger(__name__)

SMS_ROUTE_RULE = "sms_route"
SMS_PROVIDERS = ("twilio", "aliyun", "outbox")
#: the rule row migration 0006 seeds (`rules` table), its parameters all "not chosen"
SMS_ROUTE_ROW: dict[str, Any] = {
    "name": SMS_ROUTE_RULE,
    "strategy": "message",
    "enabled": True,
    "priority": 1050,
    "params": {"provider": "", "sign_name": "", "template_codes": {}},
    "description": "SMS provider, signature and approved template code per kind",
    "seed": "",
}


class _RuleLike(Protocol):
    """The shape of services.scheduler.tasks.evaluation.EffectiveRule that is read here."""

    @property
    def name(self) -> str: ...
    @property
    def enabled(self) -> bool: ...
    @property
    def params(self) -> Mapping[str, Any]: ...


def sms_route_from_policy(rules: Iterable[_RuleLike], org: str = "") -> dict[str, Any] | None:
    """The `sms_route` data of an organization from its effective rules
    (`PolicyBook.effective(org)`), or None when it chose nothing of its own."""
    row = next((r for r in rules if r.name == SMS_ROUTE_RULE), None)
    if row is None or not row.enabled:
        return None
    params = row.params
    route: dict[str, Any] = {}
    provider = str(params.get("provider") or "").strip().lower()
    if provider and provider not in SMS_PROVIDERS:
        log.warning(
            "organization %s: sms_route.provider %r is not one of %s; using the default",
            org,
            provider,
            ", ".join(SMS_PROVIDERS),
        )
    elif provider:
        route["provider"] = provider
    sign_name = str(params.get("sign_name") or "").strip()
    if sign_name:
        route["sign_name"] = sign_name
    codes = params.get("template_codes") or {}
    if isinstance(codes, Mapping):
        cleaned = {str(k): str(v).strip() for k, v in codes.items() if str(v).strip()}
        if cleaned:
            route["template_codes"] = cleaned
    else:
        log.warning("organization %s: sms_route.template_codes must be a map; ignored", org)
    return route or None
