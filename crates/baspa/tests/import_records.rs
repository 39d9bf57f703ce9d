//! The generic import (MG-7): the same news in CSV, JSON and XML with a mapping file each gives
//! the same items (translations grouped, sections, tags, custom fields, published state) that
//! the public site renders; a second run changes nothing, a changed row makes a new revision,
//! bad records are reported with their number and id while the rest is imported, a dry run
//! writes nothing, and `baspa import records` does all this from the command line.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use baspa_actions::{Actor, Ctx, NewItemInput, TranslationInput};
use baspa_domain::{ItemId, ItemKind, Role, Slug};
use baspa_import::records::{Mapping, RecordsOptions, RecordsReport, import_records};
use baspa_testkit::builders::{gov_languages, lang};
use baspa_testkit::{TestDb, spawn_app, storage_test};
use sea_orm::DatabaseConnection;
use serde_json::{Value, json};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/records")
}

fn mapping(format: &str) -> Mapping {
    Mapping::parse(&std::fs::read_to_string(fixtures().join(format!("{format}.toml"))).unwrap()).expect("mapping")
}

fn fixture(format: &str) -> Vec<u8> {
    std::fs::read(fixtures().join(format!("news.{format}"))).unwrap()
}

/// kk/ru/en on gov.test, the sections `news` › `economy` (their slugs differ per language) and
/// the account the records name as author.
async fn prepare(db: &DatabaseConnection) {
    gov_languages(db).await;
    let actor = Actor::system("test");
    let ctx = Ctx::new(db, &actor);
    let section = |parent: Option<ItemId>, versions: [(&str, &str, &str); 3]| {
        let translations = versions
            .iter()
            .map(|(code, title, slug)| {
                let mut t = TranslationInput::new(lang(code), title, "");
                t.slug = Some(Slug::parse(slug).unwrap());
                t
            })
            .collect();
        let mut input = NewItemInput::new(ItemKind::Section, translations);
        input.parent = parent;
        input
    };
    let news = baspa_actions::create_item(
        &ctx,
        section(None, [("kk", "Жаңалықтар", "zhanalyqtar"), ("ru", "Новости", "novosti"), ("en", "News", "news")]),
    )
    .await
    .unwrap();
    let economy = baspa_actions::create_item(
        &ctx,
        section(
            Some(news.item_id),
            [("kk", "Экономика", "ekonomika"), ("ru", "Экономика", "ekonomika"), ("en", "Economy", "economy")],
        ),
    )
    .await
    .unwrap();
    for (_, tid) in news.translations.iter().chain(&economy.translations) {
        baspa_actions::publish_translation(&ctx, *tid, None).await.unwrap();
    }
    baspa_actions::create_user(&ctx, "editor@baspa.test", "Editor", Role::Editor, "correct horse battery")
        .await
        .unwrap();
}

async fn import(db: &DatabaseConnection, format: &str, bytes: &[u8], dry_run: bool) -> RecordsReport {
    let options = RecordsOptions { dry_run, progress: None };
    import_records(db, &mapping(format), &format!("news.{format}"), bytes, &options).await.expect("import runs")
}

fn tally(report: &RecordsReport, kind: &str) -> (u64, u64, u64) {
    report.tallies.get(kind).map(|t| (t.created, t.updated, t.unchanged)).unwrap_or_default()
}

/// Everything about the imported articles that the source decides, keyed by the kk (else first)
/// record id: what three formats must agree on.
async fn snapshot(db: &DatabaseConnection) -> BTreeMap<String, Value> {
    let articles = baspa_db::content::items_of_kind(db, ItemKind::Article).await.unwrap();
    let mut out = BTreeMap::new();
    // Records without a date are published at the time of the run.
    let recent = chrono::Utc::now() - chrono::Duration::hours(1);
    for item in articles {
        let mut versions = BTreeMap::new();
        for t in baspa_db::content::translations_of_item(db, ItemId(item.id)).await.unwrap() {
            versions.insert(
                t.lang.clone(),
                json!({"title": t.title, "slug": t.slug, "body": t.body, "excerpt": t.excerpt, "status": t.status,
                    "published_at": t.published_at.map(|d| if d > recent { "now".to_owned() } else { d.to_rfc3339() }), "fields": t.fields}),
            );
        }
        let section = match item.section_id {
            Some(s) => baspa_db::content::translations_of_item(db, ItemId(s)).await.unwrap()[2].slug.clone(),
            None => String::new(),
        };
        let mut tags = Vec::new();
        for tag in baspa_db::content::tag_ids_of(db, ItemId(item.id)).await.unwrap() {
            let t = &baspa_db::content::translations_of_item(db, ItemId(tag)).await.unwrap()[0];
            tags.push(format!("{}:{}", t.lang, t.title));
        }
        tags.sort();
        let author = match item.author_id {
            Some(a) => baspa_db::users::get(db, baspa_domain::UserId(a)).await.unwrap().email,
            None => String::new(),
        };
        let key = versions.get("kk").or(versions.values().next()).unwrap()["fields"]["import"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        out.insert(key, json!({"versions": versions, "section": section, "tags": tags, "author": author}));
    }
    out
}

storage_test!(
    /// MG-7: CSV, JSON and XML with their mappings give the same items: three records of one
    /// story are one item in kk/ru/en, bodies sanitised, the section found by path, by title
    /// and by slug, tags made per language, other columns kept as custom fields, published state
    /// and date as the records say; the public site renders them.
    async fn mg7_csv_json_and_xml_give_the_same_items_and_the_site_renders_them(t: TestDb) {
        let mut snapshots = Vec::new();
        let mut others = Vec::new();
        for format in ["csv", "json", "xml"] {
            let db = if format == "csv" {
                t.db.clone()
            } else {
                TestDb::create(t.backend).await.unwrap().db_owned(&mut others)
            };
            prepare(&db).await;
            let report = import(&db, format, &fixture(format), false).await;
            assert!(report.is_clean(), "{format}: {:?}", report.problems);
            assert_eq!(tally(&report, "record"), (6, 0, 0), "{format}");
            assert_eq!(
                tally(&report, "tag").0,
                8,
                "{format}: бюджет, экономика (kk and ru each), budget, economy, білім, образование"
            );
            assert_eq!(report.items, 3);
            snapshots.push(snapshot(&db).await);
        }
        assert_eq!(snapshots[0], snapshots[1], "MG-7: JSON gives what CSV gives");
        assert_eq!(snapshots[0], snapshots[2], "MG-7: XML gives what CSV gives");

        let s = &snapshots[0];
        assert_eq!(s.len(), 3, "three stories, three items: {s:#?}");
        let budget = &s["n1-kk"];
        assert_eq!(budget["versions"].as_object().unwrap().len(), 3, "kk, ru and en rows are one item");
        assert_eq!(budget["section"], "economy");
        assert_eq!(budget["author"], "editor@baspa.test");
        let kk = &budget["versions"]["kk"];
        assert_eq!(kk["title"], "Бюджет қабылданды");
        assert_eq!(kk["slug"], "budzhet-qabyldandy");
        assert_eq!(kk["status"], "published");
        assert_eq!(kk["excerpt"], "Қысқаша");
        assert!(kk["body"].as_str().unwrap().contains("<b>бюджетті</b>"));
        assert!(!kk["body"].as_str().unwrap().contains("script"), "CM-2: the body is sanitised");
        assert_eq!(kk["published_at"], "2024-03-01T05:00:00+00:00", "the date at +05:00");
        assert_eq!(
            kk["fields"]["import"],
            json!({"source": "records:ministry", "id": "n1-kk", "fields": {"region": "Астана", "source_url": "https://gov.example/kk/1"}})
        );
        assert_eq!(budget["versions"]["ru"]["status"], "published", "the mapping's own status word");
        assert_eq!(budget["versions"]["ru"]["slug"], "byudzhet-prinyat", "a slug made from the title");
        let tags: Vec<&str> = budget["tags"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
        assert_eq!(tags, ["en:budget", "en:economy", "kk:бюджет", "kk:экономика", "ru:бюджет", "ru:экономика"]);
        let school = &s["n2-kk"];
        assert_eq!(school["section"], "news", "by kk title and by ru slug");
        assert_eq!(school["versions"]["ru"]["status"], "draft");
        assert_eq!(school["versions"]["kk"]["status"], "published");
        let notice = &s["n3-kk"];
        assert_eq!(notice["section"], "");
        assert_eq!(notice["versions"]["kk"]["fields"]["import"]["fields"], json!({"region": "", "source_url": ""}));
        assert_eq!(notice["versions"]["kk"]["published_at"], "now", "no date: published at the run");

        let app = spawn_app(t).await;
        let kk = app.get("gov.test", "/kk/zhanalyqtar/ekonomika/budzhet-qabyldandy").await;
        assert_eq!(kk.status, 200, "{}", kk.body);
        assert!(kk.body.contains("Бюджет қабылданды") && kk.body.contains("<b>бюджетті</b>"));
        let en = app.get("gov.test", "/en/news/economy/budget-adopted").await;
        assert_eq!(en.status, 200);
        assert!(en.body.contains("Parliament adopted the budget."));
        let ru = app.get("gov.test", "/ru/novosti/ekonomika/byudzhet-prinyat").await;
        assert_eq!(ru.status, 200);
        assert!(
            ru.text().contains("/kk/zhanalyqtar/ekonomika/budzhet-qabyldandy"),
            "the switcher links the kk version"
        );
        let draft = app.get("gov.test", "/ru/novosti/otkrylas-novaya-shkola").await;
        assert_eq!(draft.status, 404, "a draft record is not public");
        drop(others);
    }
);

/// Keeps an extra test database alive until the test ends and hands out its connection.
trait Keep {
    fn db_owned(self, keep: &mut Vec<TestDb>) -> DatabaseConnection;
}

impl Keep for TestDb {
    fn db_owned(self, keep: &mut Vec<TestDb>) -> DatabaseConnection {
        let db = self.db.clone();
        keep.push(self);
        db
    }
}

storage_test!(
    /// MG-7 (MG-6 behaviour): a second run over the same file changes nothing; a changed row
    /// becomes a new revision that is published, changed tags replace the item's tags, and a new
    /// language row joins its story's item.
    async fn mg7_a_second_run_changes_nothing_and_a_changed_row_makes_a_new_revision(t: TestDb) {
        prepare(&t.db).await;
        let first = import(&t.db, "csv", &fixture("csv"), false).await;
        assert_eq!(tally(&first, "record"), (6, 0, 0));
        let again = import(&t.db, "csv", &fixture("csv"), false).await;
        assert_eq!(again.changes(), 0, "{:?}", again.tallies);
        assert_eq!(tally(&again, "record"), (0, 0, 6));
        assert!(again.is_clean());

        let text = String::from_utf8(fixture("csv")).unwrap();
        let changed = text
            .replace("Бюджет принят,", "Бюджет принят единогласно,")
            .replace("budget;economy", "budget")
            .replace("n3-kk,s3,kk,Хабарландыру,,<p>Қабылдау күндері өзгерді.</p>,,,,,published,,,", "n3-kk,s3,kk,Хабарландыру,,<p>Қабылдау күндері өзгерді.</p>,,,,,published,,,\nn3-ru,s3,ru,Объявление,,<p>Дни приёма изменились.</p>,,,,,published,,,");
        let third = import(&t.db, "csv", changed.as_bytes(), false).await;
        assert!(third.is_clean(), "{:?}", third.problems);
        assert_eq!(tally(&third, "record"), (1, 2, 4), "n3-ru new; n1-ru and n1-en changed");
        let s = snapshot(&t.db).await;
        assert_eq!(s.len(), 3, "the new ru row joined its story");
        assert_eq!(s["n3-kk"]["versions"]["ru"]["title"], "Объявление");
        let ru = &s["n1-kk"]["versions"]["ru"];
        assert_eq!(ru["title"], "Бюджет принят единогласно", "the new revision is live");
        assert_eq!(ru["status"], "published");
        let tags: Vec<&str> = s["n1-kk"]["tags"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
        assert_eq!(tags, ["en:budget", "kk:бюджет", "kk:экономика", "ru:бюджет", "ru:экономика"]);
        let item = baspa_db::content::items_of_kind(&t.db, ItemKind::Article).await.unwrap();
        let mut revisions = 0;
        for i in &item {
            for tr in baspa_db::content::translations_of_item(&t.db, ItemId(i.id)).await.unwrap() {
                if tr.lang == "ru" && tr.title.starts_with("Бюджет") {
                    revisions =
                        baspa_db::content::revisions_of(&t.db, baspa_domain::TranslationId(tr.id)).await.unwrap().len();
                }
            }
        }
        assert_eq!(revisions, 2, "CM-10: the change is a second revision");
        let fourth = import(&t.db, "csv", changed.as_bytes(), false).await;
        assert_eq!(fourth.changes(), 0);
    }
);

storage_test!(
    /// MG-7: bad records — no id, no title, an unparsable date, invalid UTF-8, an unknown
    /// section, language or status, a repeated id — are each reported with their record number
    /// and id; every good record is imported; malformed JSON and XML lose only their broken
    /// records.
    async fn mg7_bad_records_are_reported_with_their_number_and_id_and_the_rest_imported(t: TestDb) {
        prepare(&t.db).await;
        let header = "id,story,lang,title,slug,body,summary,section,tags,author,status,date,region,link\n";
        let mut csv = header.as_bytes().to_vec();
        let rows = [
            "ok-1,a,kk,Бірінші,,<p>1</p>,,news,,,published,2024-01-01 10:00,,",
            ",b,kk,Идентификаторсыз,,<p>2</p>,,,,,published,,,",
            "no-title,c,kk,,,<p>3</p>,,,,,published,,,",
            "bad-date,d,kk,Күні бұзық,,<p>4</p>,,,,,published,01/02/2024,,",
            "bad-section,e,kk,Бөлім жоқ,,<p>5</p>,,sport/football,,,published,,,",
            "bad-lang,f,de,Sprache,,<p>6</p>,,,,,published,,,",
            "bad-status,g,kk,Мәртебе,,<p>7</p>,,,,,archived,,,",
            "ok-1,a,kk,Қайталанған,,<p>8</p>,,,,,published,,,",
            "nobody,h,kk,Авторсыз,,<p>9</p>,,,,ghost@baspa.test,published,,,",
        ];
        for row in rows {
            csv.extend_from_slice(row.as_bytes());
            csv.push(b'\n');
        }
        csv.extend_from_slice("bad-utf8,i,kk,Бұзық ".as_bytes());
        csv.extend_from_slice(&[0xD0, 0x28]);
        csv.extend_from_slice(b",,<p>10</p>,,,,,published,,,\nok-2,j,ru,Second,,<p>11</p>,,,,,published,,,\n");
        let report = import(&t.db, "csv", &csv, false).await;
        let problem = |record: u64| {
            report
                .problems
                .iter()
                .find(|p| p.record == Some(record))
                .unwrap_or_else(|| panic!("record {record} reported: {:?}", report.problems))
        };
        let expect = [
            (2, None, "id column"),
            (3, Some("no-title"), "title column"),
            (4, Some("bad-date"), "does not match the format"),
            (5, Some("bad-section"), "section \"sport/football\" does not exist"),
            (6, Some("bad-lang"), "language de is not configured"),
            (7, Some("bad-status"), "status \"archived\" is not known"),
            (8, Some("ok-1"), "already given by record 1"),
            (9, Some("nobody"), "ghost@baspa.test has no account"),
            (10, Some("bad-utf8"), "not valid UTF-8"),
        ];
        for (record, id, needle) in expect {
            let p = problem(record);
            assert_eq!(p.id.as_deref(), id, "record {record}");
            assert!(p.message.contains(needle), "record {record}: {needle:?} not in {:?}", p.message);
        }
        assert_eq!(report.problems.len(), expect.len(), "{:#?}", report.problems);
        assert_eq!(tally(&report, "record"), (3, 0, 0), "ok-1, nobody (without author) and ok-2 are imported");
        let s = snapshot(&t.db).await;
        assert_eq!(s.keys().collect::<Vec<_>>(), ["nobody", "ok-1", "ok-2"]);
        assert_eq!(s["ok-1"]["section"], "news");

        // Malformed JSON: the broken object is reported with its number and id.
        let json = br#"[{"id": "j1", "lang": "kk", "title": "J1", "story": "j1"},
            {"id": "j2", "lang": "kk", "title": "J2" "story": "j2"},
            {"id": "j3", "lang": "kk", "title": "J3", "story": "j3"}]"#;
        let report = import(&t.db, "json", json, false).await;
        assert_eq!(tally(&report, "record"), (2, 0, 0), "{:?}", report.problems);
        let p = report.problems.iter().find(|p| p.record.is_some()).unwrap();
        assert_eq!((p.record, p.id.as_deref()), (Some(2), Some("j2")));
        assert!(report.problems.iter().any(|p| p.record.is_none() && p.message.contains("malformed")));

        // Malformed XML: likewise.
        let xml = "<news><item><id>x1</id><lang>kk</lang><story>x1</story><title>X1</title></item>\
            <item><id>x2</id><lang>kk</lang><story>x2</story><title>X2</titel></item>\
            <item><id>x3</id><lang>kk</lang><story>x3</story><title>X3 &amp; Y</title></item></news>";
        let report = import(&t.db, "xml", xml.as_bytes(), false).await;
        assert_eq!(tally(&report, "record"), (2, 0, 0), "{:?}", report.problems);
        let p = report.problems.iter().find(|p| p.record.is_some()).unwrap();
        assert_eq!((p.record, p.id.as_deref()), (Some(2), Some("x2")));
        assert!(snapshot(&t.db).await["x3"]["versions"]["kk"]["title"] == "X3 & Y");
    }
);

storage_test!(
    /// MG-7: a dry run reads, resolves and counts, and writes nothing: no items, no tags, no
    /// import map rows, no journal entries.
    async fn mg7_a_dry_run_writes_nothing(t: TestDb) {
        prepare(&t.db).await;
        let journal_before = baspa_db::journal::head(&t.db).await.unwrap();
        let report = import(&t.db, "xml", &fixture("xml"), true).await;
        assert!(report.dry_run && report.is_clean(), "{:?}", report.problems);
        assert_eq!(tally(&report, "record"), (6, 0, 0));
        assert_eq!(tally(&report, "tag").0, 8);
        assert_eq!(baspa_db::content::count_items(&t.db, ItemKind::Article).await.unwrap(), 0);
        assert_eq!(baspa_db::content::count_items(&t.db, ItemKind::Tag).await.unwrap(), 0);
        assert!(baspa_db::imports::of_source(&t.db, "records:ministry").await.unwrap().is_empty());
        assert_eq!(baspa_db::journal::head(&t.db).await.unwrap(), journal_before);
    }
);

fn cli(data: &Path, url: &str, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_baspa"))
        .arg("--data-dir")
        .arg(data)
        .arg("--database-url")
        .arg(url)
        .args(args)
        .env("BASPA_LOG", "error")
        .output()
        .expect("run baspa")
}

storage_test!(
    /// MG-7: `baspa import records --mapping map.toml FILE` prints the JSON report; `--dry-run`
    /// writes nothing; a file with a bad record imports the rest and exits non-zero; a mapping
    /// naming an unknown kind is one clear error.
    async fn mg7_the_cli_imports_records_and_exits_non_zero_on_problems(t: TestDb) {
        prepare(&t.db).await;
        let data = tempfile::tempdir().unwrap();
        let map = fixtures().join("json.toml");
        let file = fixtures().join("news.json");
        let args = ["import", "records", "--mapping", map.to_str().unwrap(), file.to_str().unwrap()];
        let dry = cli(data.path(), &t.url, &[&args[..], &["--dry-run"]].concat());
        assert!(dry.status.success(), "{}", String::from_utf8_lossy(&dry.stderr));
        let report: Value = serde_json::from_slice(&dry.stdout).expect("JSON report");
        assert_eq!(report["report"]["tallies"]["record"]["created"], 6);
        assert_eq!(report["report"]["dry_run"], true);
        assert_eq!(baspa_db::content::count_items(&t.db, ItemKind::Article).await.unwrap(), 0, "dry run");

        let run = cli(data.path(), &t.url, &args);
        assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
        let report: Value = serde_json::from_slice(&run.stdout).expect("JSON report");
        assert_eq!(report["report"]["tallies"]["record"]["created"], 6);
        assert_eq!(baspa_db::content::count_items(&t.db, ItemKind::Article).await.unwrap(), 3);

        let bad = data.path().join("bad.json");
        std::fs::write(
            &bad,
            r#"[{"id": "n1-kk", "lang": "kk", "story": "s1", "title": "Бюджет", "date": "soon"},
            {"id": "z9", "lang": "kk", "story": "z9", "title": "Жаңа"}]"#,
        )
        .unwrap();
        let out =
            cli(data.path(), &t.url, &["import", "records", "--mapping", map.to_str().unwrap(), bad.to_str().unwrap()]);
        assert!(!out.status.success(), "a problem fails the command");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("1 record problem"),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let report: Value = serde_json::from_slice(&out.stdout).expect("JSON report");
        assert_eq!(report["report"]["problems"][0]["record"], 1);
        assert_eq!(report["report"]["problems"][0]["id"], "n1-kk");
        assert_eq!(report["report"]["tallies"]["record"]["created"], 1, "z9 is imported");

        let wrong = data.path().join("wrong.toml");
        std::fs::write(
            &wrong,
            std::fs::read_to_string(&map).unwrap().replace("kind = \"article\"", "kind = \"recipe\""),
        )
        .unwrap();
        let out = cli(
            data.path(),
            &t.url,
            &["import", "records", "--mapping", wrong.to_str().unwrap(), file.to_str().unwrap()],
        );
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("kind \"recipe\" is not a content kind") && stderr.contains("article, page, document"),
            "{stderr}"
        );
    }
);
