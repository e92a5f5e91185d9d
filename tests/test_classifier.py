"""The learned request classifier: the `linli classify` contract, bad input, versions and promotion."""

from __future__ import annotations

import csv
import datetime as dt
import random
import re
from pathlib import Path

import numpy as np
import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone, translation

from linli.cases.models import Case, Category
from linli.core.errors import InvalidInput
from linli.core.models import Event
from linli.insight import intake, jobs, services, textclf
from linli.insight.models import ClassifierVersion

REAL_TRAIN = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "complaints" / "train.csv"

TOPICS = {
    "物业": (["电梯", "物业费", "保安", "门禁", "漏水"], ["电梯又坏了", "物业不管", "楼道灯不亮", "维修基金"]),
    "环境": (["垃圾", "噪音", "油烟", "污水", "粉尘"], ["垃圾没人清运", "夜里噪音扰民", "河水发臭", "工地扬尘"]),
    "交通": (["停车", "公交", "红绿灯", "路口", "占道"], ["乱停车堵路", "公交班次太少", "路口没有红绿灯", "货车超速"]),
}


@pytest.fixture(autouse=True)
def _english():
    """Messages are matched in English; the zh_Hans catalogue translates them in real use."""
    with translation.override("en"):
        yield


def _messages(n_per_label: int, seed: int = 1) -> list[tuple[str, str, str]]:
    rng = random.Random(seed)
    rows = []
    for label, (words, phrases) in TOPICS.items():
        for i in range(n_per_label):
            title = f"{rng.choice(['关于', '反映', '投诉', ''])}{rng.choice(words)}{rng.choice(['问题', '的情况', ''])}"
            body = "" if i % 3 == 0 else f"我们小区{rng.choice(phrases)}，{rng.choice(phrases)}，希望尽快处理{rng.choice(words)}。"
            rows.append((title, body, label))
    rng.shuffle(rows)
    return rows


def _write(path: Path, header, rows, encoding="utf-8") -> Path:
    with open(path, "w", encoding=encoding, newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture
def train_csv(tmp_path) -> Path:
    return _write(tmp_path / "train.csv", ["title", "text", "label"], _messages(20))


@pytest.fixture
def model_file(tmp_path, train_csv) -> Path:
    out = tmp_path / "model.npz"
    call_command("classify", "train", "--csv", str(train_csv), "--out", str(out))
    return out


def test_train_predict_evaluate_round_trip_keeps_every_column(tmp_path, model_file, capsys):
    rows = [("9", "电梯坏了三天", "物业一直不来修电梯", "2024-03-01 09:30"),
            ("10", "小区门口乱停车", "", "2024-03-02 10:00"),  # a title alone
            ("11", "垃圾堆在楼下", "垃圾没人清运，夏天很臭", "2024-03-02 11:00")]
    source = _write(tmp_path / "in.csv", ["id", "title", "text", "created_at"], rows)
    out = tmp_path / "out.csv"
    call_command("classify", "predict", "--csv", str(source), "--model", str(model_file), "--out", str(out))
    with open(out, encoding="utf-8", newline="") as f:
        result = list(csv.DictReader(f))
    assert [r["id"] for r in result] == ["9", "10", "11"]
    assert list(result[0]) == ["id", "title", "text", "created_at", "predicted", "confidence"]
    assert result[1]["created_at"] == "2024-03-02 10:00" and result[1]["text"] == ""
    assert [r["predicted"] for r in result] == ["物业", "交通", "环境"]
    assert all(0.34 < float(r["confidence"]) <= 1.0 for r in result)

    labelled = _write(tmp_path / "eval.csv", ["title", "text", "label"], _messages(6, seed=2))
    capsys.readouterr()
    call_command("classify", "evaluate", "--csv", str(labelled), "--model", str(model_file))
    report = capsys.readouterr().out
    assert "Accuracy: 1.0000" in report and "Macro-F1: 1.0000" in report
    assert "Confusion matrix" in report and "交通" in report


def test_titles_only_training_and_prediction_work(tmp_path):
    rows = [(t, "", label) for t, _b, label in _messages(15, seed=3)]
    model = textclf.train([(t, b) for t, b, _l in rows], [label for _t, _b, label in rows])
    labels, confidence = model.predict([("电梯坏了", ""), ("公交太少", "")])
    assert labels == ["物业", "交通"]
    assert model.meta["cv"]["folds"] == 5 and model.meta["trained_on"] == 45


def test_artifact_is_not_pickle_and_round_trips(model_file):
    raw = model_file.read_bytes()
    assert raw[:2] == b"PK"  # a zip of .npy arrays, read with allow_pickle=False
    model = textclf.TextClassifier.from_bytes(raw)
    assert model.labels == sorted(TOPICS)
    assert model.meta["data_sha256"] and 0.099 < model.temperature < 10.01
    with pytest.raises(InvalidInput):
        textclf.TextClassifier.from_bytes(b"not a model")


def test_loaded_model_predicts_like_the_trained_one(model_file):
    messages = [("电梯坏了三天", "物业一直不来修电梯"), ("", "垃圾没人清运"), ("公交班次太少", ""), ("", "")]
    model = textclf.load(model_file)
    retrained = textclf.TextClassifier.from_bytes(model.to_bytes())
    assert np.allclose(model.scores(messages), retrained.scores(messages))
    assert model.lexicon is not None and len(model.lexicon.keys) > 100_000  # jieba's dictionary travels with it


# --- the numpy feature path against plain Python references ------------------------------------------

NGRAM_TEXTS = ["", "a", "电梯坏了", "𠀀𠀁好 x𝄞", "ab\u0000c", "关于小区门口乱停车的投诉", "", "😀😀😀"]


def _reference_ngrams(text: str, lo: int, hi: int) -> list[int]:
    return sorted(textclf.features.ngram_key(text[i:i + n]) for n in range(lo, hi + 1)
                  for i in range(len(text) - n + 1))


def test_numpy_ngrams_equal_a_python_reference():
    for lo, hi in [(1, 1), (1, 2), (1, 3), (2, 3)]:
        doc, key = textclf.features.char_ngrams(NGRAM_TEXTS, lo, hi)
        for i, text in enumerate(NGRAM_TEXTS):
            assert sorted(key[doc == i].tolist()) == _reference_ngrams(text, lo, hi), (text, lo, hi)
    # n-grams of different lengths never share a key, and distinct n-grams differ
    grams = {text[i:i + n] for text in NGRAM_TEXTS for n in (1, 2, 3) for i in range(len(text) - n + 1)}
    assert len({textclf.features.ngram_key(g) for g in grams}) == len(grams)


def test_key_table_matches_a_dict_even_with_collisions():
    from linli.insight.textclf.segment import KeyTable

    rng = np.random.default_rng(3)
    keys = np.unique(rng.integers(0, 2 ** 62, size=5000))
    table = KeyTable(keys, np.arange(len(keys), dtype=np.int64), -1)
    assert table.max_probe > 1  # keys collided, so probing is exercised
    queries = np.concatenate([keys, rng.integers(0, 2 ** 62, size=5000), keys[::7]])
    expected = {int(k): i for i, k in enumerate(keys)}
    assert table.lookup(queries).tolist() == [expected.get(int(q), -1) for q in queries]
    assert KeyTable(np.zeros(0, dtype=np.int64), np.zeros(0), -1).lookup(queries[:3]).tolist() == [-1, -1, -1]


def _reference_cut(text: str, words: dict[str, float]) -> list[str]:
    """The most probable route, the plain way (Chinese text only)."""
    from linli.insight.textclf.segment import MAX_WORD, UNKNOWN

    best = [(0.0, 0)] * (len(text) + 1)
    for i in range(len(text) - 1, -1, -1):
        options = []
        for n in range(1, min(MAX_WORD, len(text) - i) + 1):
            logp = words.get(text[i:i + n], UNKNOWN if n == 1 else None)
            if logp is not None:
                options.append((logp + best[i + n][0], -n))
        score, minus_n = max(options)
        best[i] = (score, -minus_n)
    out, i = [], 0
    while i < len(text):
        out.append(text[i:i + best[i][1]])
        i += best[i][1]
    return out


def test_vectorised_segmentation_equals_the_plain_dynamic_programme():
    from linli.insight.textclf import segment

    words = {"中华": -8.0, "人民": -8.0, "共和国": -9.0, "中华人民": -12.0, "人民共和国": -14.0, "小区": -7.0,
             "电梯": -7.5, "坏": -9.0, "了": -5.0, "物业": -8.0, "不管": -8.5, "不": -5.0, "管": -7.0}
    neighbours = [chr(c) for c in range(0x4E00, 0x4E00 + 3000)] + ["中华", "中华人", "中华人民", "a", "ab"]
    assert len(set(segment.text_keys(neighbours).tolist())) == len(neighbours)  # no merged keys
    lexicon = segment.Lexicon(segment.text_keys(list(words)), np.array(list(words.values()), dtype=np.float32))
    texts = ["中华人民共和国", "小区电梯坏了，物业不管！", "", "Ab12电梯x", "管", "𠀀电梯"]
    doc, key = segment.cut(texts, lexicon)
    for i, text in enumerate(texts):
        expected = [w for run in re.findall(r"[\u4e00-\u9fd5]+", text) for w in _reference_cut(run, words)]
        expected += re.findall(r"[A-Za-z0-9]+", text)
        assert sorted(key[doc == i].tolist()) == sorted(segment.text_keys(expected).tolist() if expected else []), text


def test_format_1_models_are_still_read(tmp_path):
    """A format-1 artifact (string vocabularies, jieba words) keeps predicting after the upgrade."""
    import io
    import json

    document = {"format": "linli-textclf/1", "labels": ["交通", "环境"], "blocks": ["title_chars", "all_chars", "all_words"],
                "vocabularies": [["停车", "垃圾"], ["车", "圾"], ["停车", "垃圾"]], "meta": {}}
    buffer = io.BytesIO()
    np.savez_compressed(buffer, weights=np.array([[1, 0], [0, 1], [1, 0], [0, 1], [1, 0], [0, 1]], dtype=np.float32),
                        bias=np.zeros(2, dtype=np.float32), temperature=np.array([1.0]),
                        document=np.frombuffer(json.dumps(document).encode(), dtype=np.uint8),
                        **{f"idf_{i}": np.ones(2, dtype=np.float32) for i in range(3)})
    model = textclf.TextClassifier.from_bytes(buffer.getvalue())
    assert model.predict([("乱停车", ""), ("小区", "垃圾没人清运")])[0] == ["交通", "环境"]
    document["format"] = "linli-textclf/9"
    buffer = io.BytesIO()
    np.savez_compressed(buffer, document=np.frombuffer(json.dumps(document).encode(), dtype=np.uint8),
                        weights=np.zeros((6, 2)), bias=np.zeros(2), temperature=np.array([1.0]))
    with pytest.raises(InvalidInput, match="unknown format"):
        textclf.TextClassifier.from_bytes(buffer.getvalue())


def test_gbk_export_is_read(tmp_path):
    gbk = _write(tmp_path / "gbk.csv", ["title", "text", "label"], _messages(20), encoding="gbk")
    out = tmp_path / "m.npz"
    call_command("classify", "train", "--csv", str(gbk), "--out", str(out))
    assert textclf.load(out).labels == sorted(TOPICS)


@pytest.mark.parametrize("content, message", [
    ("title,label\n电梯坏了,物业\n".encode(), "lacks the column(s) text"),
    (b"", "is empty"),
    ("title,text,label\n".encode(), "has a header but no rows"),
    ("title,text,label\n电梯坏了,,\n噪音,,\n".encode(), "has no rows with a label"),
    (b"title,text,label\n\x80\xff\xfe\x81,x,y\n", "neither UTF-8 nor GBK"),
    ("title,text,label,created_at\n电梯,,物业,13/02/2024\n噪音,,环境,02/13/2024\n".encode(), "mixes day/month"),
])
def test_bad_training_files_are_refused_and_nothing_is_written(tmp_path, content, message):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(content)
    out = tmp_path / "never.npz"
    with pytest.raises(CommandError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call_command("classify", "train", "--csv", str(bad), "--out", str(out))
    assert not out.exists()


def test_evaluate_names_labels_the_model_does_not_know(tmp_path, model_file):
    labelled = _write(tmp_path / "eval.csv", ["title", "text", "label"], [("电梯坏了", "", "物业"), ("学校", "", "教育")])
    with pytest.raises(CommandError, match="labels the model does not know: 教育"):
        call_command("classify", "evaluate", "--csv", str(labelled), "--model", str(model_file))


def test_predict_without_model_needs_an_active_version(db, tmp_path, train_csv):
    out = tmp_path / "out.csv"
    with pytest.raises(CommandError, match="no active classifier version"):
        call_command("classify", "predict", "--csv", str(train_csv), "--out", str(out))
    assert not out.exists()
    with pytest.raises(CommandError, match="not a request classifier model"):
        call_command("classify", "predict", "--csv", str(train_csv), "--model", str(train_csv), "--out", str(out))
    call_command("classify", "train", "--csv", str(train_csv))  # stored as the active installation-wide version
    call_command("classify", "predict", "--csv", str(train_csv), "--out", str(out))
    assert out.exists()
    version = ClassifierVersion.objects.get()
    assert (version.community, version.number, version.status) == (None, 1, "active")
    assert Event.objects.filter(verb="classifier.promoted", target_id=str(version.pk)).exists()


# --- versions trained from a community's confirmed cases -------------------------------------------

def _categories(community) -> dict[str, Category]:
    codes = {"物业": "property", "环境": "environment", "交通": "traffic"}
    return {label: Category.objects.create(community=community, code=code, name_zh=label, name_en=code)
            for label, code in codes.items()}


def _cases(community, categories, rows, *, start=0, triage_every=0,
           source=Case.CategorySource.STAFF_ACCEPT) -> None:
    """Cases whose category staff confirmed (``source``: who set it; only a person's is a label)."""
    now = timezone.now()
    for i, (title, body, label) in enumerate(rows, start=start):
        Case.objects.create(community=community, number=f"{community.code}-T-{i:05d}", channel=Case.Channel.WEB,
                            description=f"{title}。{body}", category=categories[label],
                            needs_triage=bool(triage_every and i % triage_every == 0),
                            category_source=source, created_at=now - dt.timedelta(minutes=i))


def test_training_from_cases_promotes_only_when_not_worse(world):
    intake.clear_cache()
    y = world.community
    categories = _categories(y)
    _cases(y, categories, _messages(20), triage_every=7)
    admin = world.users["admin"]

    first = services.classifier_train_from_cases(actor=admin, community=y)
    confirmed = Case.objects.filter(community=y, needs_triage=False).count()
    validation = sum(services.in_validation_split(pk) for pk in
                     Case.objects.filter(community=y, needs_triage=False).values_list("pk", flat=True))
    assert first.status == "candidate" and first.trained_on == confirmed - validation
    assert services.classifier_promote(actor=admin, version=first) is True
    first.refresh_from_db()
    assert first.status == "active"

    suggestion = intake.learned_suggestion("电梯坏了一个星期，物业不管", list(categories.values()))
    assert suggestion.category_id == categories["物业"].pk and suggestion.source == "model v1"
    assert intake.learned_suggestion("电梯坏了", [categories["环境"]]) is None  # label not offered

    # A worse model (labels shuffled) is compared on the fixed validation split and retired.
    train, _validation = services.training_split(y)
    shuffled = [code for _m, code in train]
    random.Random(5).shuffle(shuffled)
    worse = services.classifier_store(actor=admin, model=textclf.train([m for m, _c in train], shuffled),
                                      community=y, source="test")
    assert services.classifier_promote(actor=admin, version=worse) is False
    worse.refresh_from_db()
    first.refresh_from_db()
    assert (worse.status, first.status) == ("retired", "active")
    assert worse.metrics["promotion"]["active_macro_f1"] > worse.metrics["promotion"]["macro_f1"]
    assert Event.objects.filter(verb="classifier.rejected", target_id=str(worse.pk)).exists()
    with pytest.raises(InvalidInput):
        services.classifier_promote(actor=admin, version=worse)


def test_retrain_job_is_safe_to_run_twice(world):
    y = world.community
    categories = _categories(y)
    _cases(y, categories, _messages(12))
    assert jobs.retrain(y.pk)["trained"] == 1
    assert jobs.retrain(y.pk) == {"trained": 0, "skipped": "unchanged"}
    _cases(y, categories, _messages(3, seed=9), start=100)  # staff confirmed more cases
    result = jobs.retrain(y.pk)
    assert result["trained"] == 1 and result["number"] == 2
    assert ClassifierVersion.objects.filter(community=y, status="active").count() == 1
    assert jobs.retrain_all() == {"communities": 1, "trained": 0, "promoted": 0}


def test_too_few_confirmed_cases_is_a_clear_error(world):
    y = world.community
    categories = _categories(y)
    _cases(y, categories, _messages(2))
    with pytest.raises(InvalidInput, match="Not enough confirmed cases"):
        services.classifier_train_from_cases(actor=None, community=y)
    assert not ClassifierVersion.objects.exists()


def test_intake_cache_rechecks_the_active_version(world, monkeypatch):
    intake.clear_cache()
    y = world.community
    categories = _categories(y)
    assert intake.learned_suggestion("电梯坏了", list(categories.values())) is None
    _cases(y, categories, _messages(12))
    jobs.retrain(y.pk)
    # Within RECHECK_SECONDS the cached "no active version" answer stands; after it, the new one is used.
    assert intake.learned_suggestion("电梯坏了", list(categories.values())) is None
    monkeypatch.setattr(intake, "RECHECK_SECONDS", 0)
    assert intake.learned_suggestion("电梯坏了", list(categories.values())).category_id == categories["物业"].pk


def test_duplicate_groups_join_re_posts_transitively():
    body = "楼下的路灯已经坏了两个星期，晚上出门完全看不见路，老人摔过一次。" * 3  # over 60 characters
    groups = textclf.duplicate_groups([
        ("路灯坏了", body),  # 0
        ("路灯坏了！", "另一段文字"),  # 1: same title, punctuation ignored
        ("夜里看不见路", body + "补充"),  # 2: same body start
        ("", "只有正文"),  # 3 and 4: no title, short bodies: not re-posts of each other
        ("", "只有正文"),
        ("噪音扰民", ""),  # 5
    ])
    assert groups[0] == groups[1] == groups[2]
    assert len({groups[0], groups[3], groups[4], groups[5]}) == 4


def test_stored_cross_validation_keeps_re_posts_in_one_fold():
    """Messages that carry no sign of their label, each posted three times: a split that puts
    copies on both sides scores them by memory (macro-F1 near 1); kept in one fold, near chance."""
    rng = random.Random(3)
    pool = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处理府研质信"
    rows = []
    for label in ("甲", "乙", "丙"):
        for _ in range(15):
            title = "".join(rng.choice(pool) for _ in range(12))
            body = "".join(rng.choice(pool) for _ in range(40))
            rows += [((title, body), label)] * 3
    rng.shuffle(rows)
    model = textclf.train([m for m, _label in rows], [label for _m, label in rows])
    assert model.meta["cv"]["grouped"] is True
    assert model.meta["cv"]["macro_f1"] < 0.7  # a plain split measured about 1.0 here


def test_a_label_held_by_one_re_posted_message_trains_without_cross_validation():
    rows = [(t, b) for t, b, _label in _messages(10)]
    labels = [label for _t, _b, label in _messages(10)]
    rows += [("楼顶水箱漏水", "同一条留言发了三次")] * 3
    labels += ["水务"] * 3
    model = textclf.train(rows, labels)  # one re-post group cannot be split into folds
    assert "cv" not in model.meta and model.temperature == 1.0
    assert model.predict([("楼顶水箱漏水", "")])[0] == ["水务"]


@pytest.mark.skipif(not REAL_TRAIN.exists(), reason="../shared/data/complaints/train.csv is absent")
def test_real_messages_two_fold_macro_f1_floor():
    from sklearn.model_selection import StratifiedGroupKFold

    table = textclf.read_messages(REAL_TRAIN, need_label=True)
    rows = table.labelled_rows()
    names = sorted({row[table.label] for row in rows})
    y = np.array([names.index(row[table.label]) for row in rows])
    messages = table.messages(rows)
    terms = textclf.features.extract(messages)
    # Re-posts kept in one fold, as for messages the model has never seen (docs/classifier.md).
    groups = textclf.duplicate_groups(messages)
    splits = StratifiedGroupKFold(2, shuffle=True, random_state=0).split(np.zeros(len(y)), y, groups)
    scores = textclf.model.out_of_fold_scores(terms, y, len(names), splits)
    metrics = textclf.classification_metrics([names[i] for i in y], [names[i] for i in scores.argmax(1)], names)
    # Measured 2026-12 with re-posts grouped: 0.916 on this split (seed 0; 0.916-0.921 over seeds
    # 0-2; half the data trains each fold), below the grouped five-fold estimate (0.925). The plain
    # split this test used before gave 0.922 (flattered by re-posts). The floor sits just below the
    # grouped figures, so a real regression fails here; it was 0.85 before issue 8.
    assert metrics["macro_f1"] >= 0.91


def test_intake_uses_the_active_model_and_falls_back_to_keywords(world):
    """Through case_submit: the learned model suggests; where none is active, the keyword rules do."""
    from linli.cases.services import Intake, case_submit

    y = world.community
    categories = _categories(y)
    Category.objects.filter(pk=categories["物业"].pk).update(keywords="电梯")
    intake_args = dict(community=y, channel=Case.Channel.API, description="电梯坏了一个星期，物业不管",
                       contact_phone="13912345678")
    case, _ = case_submit(actor=None, intake=Intake(**intake_args))
    assert (case.suggested_category_id, case.suggestion_source) == (categories["物业"].pk, "keywords")
    _cases(y, categories, _messages(12))
    jobs.retrain(y.pk)
    intake.clear_cache()
    case, _ = case_submit(actor=None, intake=Intake(**intake_args))
    assert (case.suggested_category_id, case.suggestion_source) == (categories["物业"].pk, "model v1")
    # Deleted while still remembered as active (and its model evicted): intake falls back, no error.
    ClassifierVersion.objects.all().delete()
    intake._models.clear()
    case, _ = case_submit(actor=None, intake=Intake(**intake_args))
    assert case.suggestion_source == "keywords"


def test_a_promotion_retires_the_active_version_as_a_move_of_its_own(world):
    from linli.core.errors import PermissionDenied

    y = world.community
    categories = _categories(y)
    _cases(y, categories, _messages(12))
    first = services.classifier_train_from_cases(actor=None, community=y)
    # A community worker does not run the model; its admins, the job and the command do.
    with pytest.raises(PermissionDenied):
        services.classifier_promote(actor=world.users["worker"], version=first)
    first.refresh_from_db()
    assert first.status == "candidate" and not Event.objects.filter(verb="classifier.promoted").exists()
    assert services.classifier_promote(actor=None, version=first) is True

    # Stored active at once, as `linli classify train` stores a version: the one it replaces is retired.
    second = services.classifier_store(actor=world.users["admin"], community=y, source="test", activate=True,
                                       model=textclf.TextClassifier.from_bytes(bytes(first.artifact)))
    first.refresh_from_db()
    assert (first.status, second.status) == ("retired", "active")
    retired = Event.objects.get(verb="classifier.retired")
    promoted = Event.objects.get(verb="classifier.promoted", target_id=str(second.pk))
    assert retired.target_id == str(first.pk) and retired.actor == world.users["admin"]
    assert retired.data == {"from": "active", "to": "retired", "number": 1, "replaced_by": 2}
    assert promoted.data == {"from": "candidate", "to": "active", "number": 2, "reason": "manual"}
    assert retired.pk < promoted.pk and Event.objects.filter(verb="classifier.promoted").count() == 2
