"""`revops init`: recognise exports from their headers and write a config that validates as is."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import yaml
from typer.testing import CliRunner

from revops_cli import cli

ROOT = Path(__file__).resolve().parent.parent
REALDATA = Path(__file__).parent / "fixtures" / "realdata" / "salesforce"
runner = CliRunner()


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(cli.app, list(args))
    return result.exit_code, result.stdout, result.stderr


def copy_sample(tmp_path: Path) -> Path:
    folder = tmp_path / "exports"
    shutil.copytree(ROOT / "sample_data", folder)
    (folder / "notes.csv").write_text("topic,owner\nq3 plan,ana\n")
    return folder


def test_init_on_hubspot_and_stripe_exports_then_validate_audit_metrics(tmp_path: Path) -> None:
    folder = copy_sample(tmp_path)
    code, out, _ = invoke("init", str(folder))
    assert code == 0
    config_path = folder / "revops.yaml"
    config = yaml.safe_load(config_path.read_text())
    presets = {table: source.get("preset") for table, source in config["sources"].items()}
    assert presets == {
        "deals": "hubspot-deals",
        "accounts": "hubspot-companies",
        "leads": "hubspot-contacts",
        "customers": "stripe-customers",
        "subscriptions": "stripe-subscriptions",
        "invoices": "stripe-invoices",
        # files whose headers are canonical column names need no preset
        "owners": None,
        "deal_stage_history": None,
        "forecasts": None,
    }
    assert config["sources"]["deals"]["path"] == "hubspot_deals.csv"
    text = config_path.read_text()
    assert "notes.csv" in out and "# notes.csv: not a known export" in text
    assert "# expenses.csv: not a known export" in text  # German headers: mapped by hand
    assert invoke("validate", "-c", str(config_path), "--as-of", "2026-10-01")[0] == 0
    code, _, err = invoke("audit", "-c", str(config_path), "--as-of", "2026-10-01")
    assert code in (0, 1), err
    code, _, err = invoke(
        "metrics", "-c", str(config_path), "--as-of", "2026-10-01", "-p", "2026-Q3"
    )
    assert code == 0, err


def test_init_on_the_real_salesforce_exports(tmp_path: Path) -> None:
    folder = tmp_path / "sf"
    shutil.copytree(REALDATA, folder)
    assert invoke("init", str(folder))[0] == 0
    config = yaml.safe_load((folder / "revops.yaml").read_text())
    assert {t: s["preset"] for t, s in config["sources"].items()} == {
        "deals": "salesforce-opportunity",
        "accounts": "salesforce-account",
        "leads": "salesforce-lead",
    }
    assert invoke("validate", "-c", str(folder / "revops.yaml"))[0] == 0
    code, _, err = invoke("audit", "-c", str(folder / "revops.yaml"), "--as-of", "2024-04-09")
    assert code in (0, 1), err


def test_init_never_overwrites_without_force(tmp_path: Path) -> None:
    folder = copy_sample(tmp_path)
    (folder / "revops.yaml").write_text("# mine\n")
    code, _, err = invoke("init", str(folder))
    assert code == 2
    assert (
        err == f"error: {folder / 'revops.yaml'}: already exists (pass --force to overwrite it)\n"
    )
    assert (folder / "revops.yaml").read_text() == "# mine\n"
    assert invoke("init", str(folder), "--force")[0] == 0
    assert "preset: hubspot-deals" in (folder / "revops.yaml").read_text()


def test_init_to_stdout_and_to_another_folder(tmp_path: Path) -> None:
    folder = copy_sample(tmp_path)
    code, out, err = invoke("init", str(folder), "--output", "-")
    assert code == 0
    assert yaml.safe_load(out)["sources"]["deals"]["preset"] == "hubspot-deals"
    assert "exports found" in err
    target = tmp_path / "conf" / "revops.yaml"
    target.parent.mkdir()
    assert invoke("init", str(folder), "-o", str(target))[0] == 0
    deals = yaml.safe_load(target.read_text())["sources"]["deals"]
    assert deals["path"] == "../exports/hubspot_deals.csv"  # relative to the config's folder
    assert invoke("validate", "-c", str(target))[0] == 0


def test_init_reports_ambiguous_files(tmp_path: Path) -> None:
    folder = tmp_path / "x"
    folder.mkdir()
    # a header row carrying the required headers of two presets at once
    hubspot = "Record ID,Deal Name,Deal Stage,Email,Lead Status,Company Name,Company Domain Name"
    (folder / "mixed.csv").write_text(hubspot + "\n1,a,b,c@d.com,New,Acme,acme.com\n")
    code, out, _ = invoke("init", str(folder), "-o", "-")
    assert code == 0
    assert "# mixed.csv: ambiguous: hubspot-contacts (23%), hubspot-deals (21%)" in out
    assert yaml.safe_load(out)["sources"] == {}


def test_an_export_without_its_key_column_is_not_used(tmp_path: Path) -> None:
    # a Salesforce lead report without the Lead ID: with the preset, the run's S001 would leave
    # the leads unloaded and exit 1
    folder = tmp_path / "x"
    folder.mkdir()
    (folder / "leads.csv").write_text(
        "Lead Owner,First Name,Last Name,Company / Account,Lead Source,Lead Status,Create Date\n"
        "Jane Doe,Ann,A,Acme,Web,Open - Not Contacted,3/5/2024\n"
    )
    code, out, _ = invoke("init", str(folder), "-o", "-")
    assert code == 0
    assert yaml.safe_load(out)["sources"] == {}
    assert "# leads.csv: looks like salesforce-lead but has no lead_id column" in out


def test_exports_are_found_whatever_the_case_of_their_ending(tmp_path: Path) -> None:
    folder = tmp_path / "x"
    folder.mkdir()
    (folder / "Owners.Csv").write_text("owner_id,name\nO1,Ana\n")
    (folder / "deals.CSV.GZ").write_bytes(gzip.compress(b"deal_id,name,amount\nD1,a,1\n"))
    (folder / "notes.txt").write_text("owner_id,name\n")
    assert invoke("init", str(folder))[0] == 0
    sources = yaml.safe_load((folder / "revops.yaml").read_text())["sources"]
    assert {t: s["path"] for t, s in sources.items()} == {
        "owners": "Owners.Csv",
        "deals": "deals.CSV.GZ",
    }


def test_init_never_writes_over_an_export_even_with_force(tmp_path: Path) -> None:
    folder = tmp_path / "x"
    folder.mkdir()
    deals = folder / "deals.csv"
    deals.write_text("deal_id,name,amount\nD1,a,1\n")
    code, out, err = invoke("init", str(folder), "-o", str(deals), "--force")
    assert (code, out) == (2, "")
    assert err == (
        f"error: --output names an input of the run, {deals} (an export of the folder) "
        "(choose another path: a run never writes over the files it reads)\n"
    )
    assert deals.read_text() == "deal_id,name,amount\nD1,a,1\n"


def test_init_says_what_to_do_next(tmp_path: Path) -> None:
    folder = tmp_path / "x"
    folder.mkdir()
    code, out, _ = invoke("init", str(folder), "-q")
    assert code == 0
    # validate would stop at "no source is configured"
    assert out.splitlines() == [
        f"wrote {folder / 'revops.yaml'}: 0 of 0 files mapped",
        f"next: map your exports under `sources:` in {folder / 'revops.yaml'}",
    ]
    (folder / "owners.csv").write_text("owner_id,name\nO1,Ana\n")
    code, out, _ = invoke("init", str(folder), "-q", "--force")
    assert out.splitlines()[1] == f"next: revops validate -c {folder / 'revops.yaml'}"


def test_canonical_headers_name_their_table() -> None:
    from revops_cli.load.discover import canonical_match

    # (table, share of the file's headers that are its columns)
    assert canonical_match(["deal_id", "stage", "entered_at"]) == ("deal_stage_history", 1.0)
    assert canonical_match(["Deal_ID", "Name", "Amount"]) == ("deals", 1.0)
    assert canonical_match(["owner_id", "name", "team"]) == ("owners", 1.0)
    assert canonical_match(["Datum", "Betrag"]) is None
    # owner_id is owners' only required column, and owners has five columns: 1/5 of them beat
    # deals' 3/16 (a deals file was taken for the owners at "100%")
    assert canonical_match(["deal_id", "owner_id", "amount", "region"]) == ("deals", 0.75)
    # a stage history that carries two more deal columns is still the history (3 required)
    assert canonical_match(["deal_id", "stage", "entered_at", "amount", "close_date"]) == (
        "deal_stage_history",
        0.6,
    )
    # RavenStack's subscriptions (no customer_id): account_id is 1 of their 14 headers, so
    # they are no accounts file; Fivetran's Salesforce account table: owner_id and name are 2
    # of its 12 headers, under a fifth, so it is no owners file (a deals file holding 4 of 20
    # still is deals, and one with a customer_id too)
    raven = ["subscription_id", "account_id", "start_date", "end_date", "plan_tier", "seats"]
    raven += ["mrr_amount", "arr_amount", "is_trial", "upgrade_flag", "downgrade_flag"]
    raven += ["churn_flag", "billing_frequency", "auto_renew_flag"]
    assert canonical_match(raven) is None
    fivetran = ["_fivetran_synced", "id", "industry", "is_deleted", "name", "number_of_employees"]
    fivetran += ["owner_id", "parent_id", "type", "website", "billing_country", "created_date"]
    assert canonical_match(fivetran) is None
    custom = [f"custom_{n}" for n in range(16)]
    assert canonical_match(["deal_id", "amount", "stage", "close_date", *custom]) == ("deals", 0.2)
    assert canonical_match(["deal_id", "customer_id", "amount"]) == ("deals", 2 / 3)
    # subscriptions without their customer_id: 3 of subscriptions' columns, 1 of accounts'
    assert canonical_match(["subscription_id", "account_id", "start_date", "end_date"]) is None


def test_a_canonical_match_is_as_confident_as_its_share_of_the_headers(tmp_path: Path) -> None:
    # sf_opportunity_data.csv (a Fivetran table, EXPORTS §7) is the opportunity preset's now; a
    # file of many columns that only shares owner_id, name and email with owners no longer beats
    # the Salesforce User export (preset salesforce-user) at a canonical "100%"
    folder = tmp_path / "exports"
    shutil.copytree(REALDATA, folder)
    (folder / "User.csv").write_text(
        "Id,Username,Name,Email,IsActive\n005A,ana@x.com,Ana,ana@x.com,true\n"
    )
    (folder / "people.csv").write_text(
        "owner_id,name,email,region,title,phone,city\nO1,Ana,ana@x.com,EU,AE,1,Oslo\n"
    )
    (folder / "sf_opportunity_data.csv").write_text(
        "_fivetran_synced,account_id,amount,close_date,id,name,owner_id,stage_name\n"
        "2024-01-01 00:00:00,001A,100,2024-02-01,006A,Deal,005A,Closed Won\n"
    )
    assert invoke("init", str(folder))[0] == 0
    text = (folder / "revops.yaml").read_text()
    sources = yaml.safe_load(text)["sources"]
    assert sources["owners"] == {"path": "User.csv", "preset": "salesforce-user"}
    assert "# people.csv: another file is the owners export (User.csv)" in text
    assert sources["deals"] == {"path": "Opportunity.csv", "preset": "salesforce-opportunity"}
    assert "# sf_opportunity_data.csv: another file is the deals export (Opportunity.csv)" in text


def test_names_from_the_disk_cannot_inject_keys(tmp_path: Path) -> None:
    # U+2028 ends a YAML comment line: a header 'x<U+2028>version: 2' wrote a second version key;
    # a control character made the whole file unreadable YAML
    folder = tmp_path / "x"
    folder.mkdir()
    (folder / "odd.csv").write_text("foo,x\u2028version: 2,a\x01b\n1,2,3\n", encoding="utf-8")
    (folder / "deals.csv").write_text("deal_id,amount\nD1,5\n")
    code, out, _ = invoke("init", str(folder), "-o", "-")
    assert code == 0
    config = yaml.safe_load(out)
    assert config["version"] == 1
    assert config["sources"]["deals"]["path"].endswith("deals.csv")
    assert "#   headers: foo, x\\u2028version: 2, a\\x01b" in out
