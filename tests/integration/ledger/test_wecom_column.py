"""The WeCom user id column (`wecom_userid` / 企业微信账号) of members and liaisons, and the
`wecom` channel choices, through import and export on both databases."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from shared.errors import ImportRejected
from shared.ledger.importer import import_files
from shared.models import Liaison, Member
from tests.integration.ledger import sample
from tests.integration.ledger.conftest import export_bytes
from tests.integration.ledger.sample import LEDGER, write_csv

Ledger = dict[str, list[dict[str, object]]]


@pytest.fixture
def with_wecom(monkeypatch: pytest.MonkeyPatch) -> Callable[..., Ledger]:
    """The sample ledger with WeCom user ids; `sample.write_csv` writes the columns its
    module's LEDGER uses, so that is the copy's too."""

    def make(member_channels: str = "sms+wecom") -> Ledger:
        ledger = copy.deepcopy(LEDGER)
        ledger["members"][0].update(wecom_userid="zhangsan", channels=member_channels)
        ledger["liaisons"][0].update(wecom_userid="LiSi_01", channels="wecom")
        monkeypatch.setattr(sample, "LEDGER", ledger)
        return ledger

    return make


def test_chinese_headed_files_import_the_wecom_user_id_and_channel(
    engine: Engine, tmp_path: Path, with_wecom: Callable[..., Ledger]
) -> None:
    import_files(engine, write_csv(tmp_path, chinese=True, ledger=with_wecom()))
    with engine.connect() as conn:
        member = conn.execute(select(Member).where(Member.member_id == "M001")).one()
        liaison = conn.execute(select(Liaison).order_by(Liaison.liaison_id)).first()
        other = conn.execute(select(Member).where(Member.member_id == "M002")).one()
    assert (member.wecom_userid, member.channels) == ("zhangsan", "sms+wecom")
    assert liaison is not None and (liaison.wecom_userid, liaison.channels) == ("LiSi_01", "wecom")
    assert other.wecom_userid is None


def test_the_wecom_column_survives_export_and_reimport_byte_for_byte(
    engine: Engine, tmp_path: Path, fresh: Callable[[], None], with_wecom: Callable[..., Ledger]
) -> None:
    import_files(engine, write_csv(tmp_path / "in", ledger=with_wecom()))
    first = export_bytes(engine, tmp_path / "out1")
    assert b"wecom_userid" in first["members.csv"] and b"zhangsan" in first["members.csv"]
    fresh()
    import_files(engine, sorted((tmp_path / "out1").glob("*.csv")))
    assert export_bytes(engine, tmp_path / "out2") == first


def test_an_unknown_channel_is_still_refused(
    engine: Engine, tmp_path: Path, with_wecom: Callable[..., Ledger]
) -> None:
    with pytest.raises(ImportRejected) as caught:
        import_files(engine, write_csv(tmp_path, ledger=with_wecom("wechat")))
    assert any("channels" in p and "wechat" in p for p in caught.value.problems)
