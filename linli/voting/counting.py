"""Counting rules: pure functions over plain lists (no Django, no database), so that the same
code counts a vote of ten ballots and the bench's 100,000.

* :func:`tally` adds the ballots up: per question, per option, the ballots and (for owners'
  votes) the floor area behind them.
* :func:`decide` applies the vote's rule to a tally and the roll (who could have voted):

  ``majority``
      an option is adopted when it has **more than half** of the votes cast on its question
      (ballots that answered it); a tie is not more than half, so nothing is adopted.
  ``quorum``
      first the turnout: the ballots cast must be at least ``quorum_percent`` % of the roll
      (people, households or owners, by the vote's eligibility); then ``majority``.
  ``owners`` / ``owners_special``
      Civil Code art. 278 (民法典第二百七十八条), owners' common decisions. Participation: the
      owners who voted must hold **at least 2/3** (三分之二以上) of the floor area of the
      专有部分 **and** be at least 2/3 of the owners. Approval: **more than half** (过半数) of the
      participating area and of the participating owners (``owners``), or **at least 3/4**
      (四分之三以上) of both (``owners_special``: the matters of art. 278 para. 1 items 6–8:
      raising maintenance funds, rebuilding, changing the use of common parts or running a
      business on them). "以上" includes the figure itself (Civil Code art. 1259), "过半数"
      does not. Every comparison is made with exact :class:`fractions.Fraction`\\s.
  ``tally``
      counts only (approval, rating and fund votes): ``passed`` is None.

How area and owners are counted (the Supreme People's Court's interpretation on 建筑物区分所有权,
法释〔2009〕7号, arts. 8–9): the area is that of each 专有部分 as registered (or surveyed, or as
in the sale contract), the total the sum over them; owners are counted **one per 专有部分**.
Linli's roll (``linli.voting.eligibility.roll``) takes one household = one 专有部分 with its
``floor_area``, and each owners' ballot carries that area (``Ballot.weight_area``); so a ballot
is one owner and its area here. Where Linli simplifies: an owner of several units is counted
once per unit, not once in all as art. 9 would have it for one buyer of several units (the
registry cannot tell that two households' owners are one person), and units the developer
has not sold are not in the registry at all. docs/voting.md says so.

A question under a deciding rule is read as a motion whose **first option is "agree"**: the
question ``passed`` when that option is adopted. Where a question lists candidates rather than
agree/against, ``adopted`` names the option that met the threshold (at most one can).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

KINDS = ("choice", "approval", "rating")
RULES = ("majority", "quorum", "owners", "owners_special", "tally")
TWO_THIRDS = Fraction(2, 3)
HALF = Fraction(1, 2)
THREE_QUARTERS = Fraction(3, 4)


def _centi(area) -> int:
    """Floor area (Decimal, str, int or None) in hundredths of a square metre, exactly."""
    if area is None or area == "":
        return 0
    value = Decimal(str(area)) * 100
    if value != value.to_integral_value():
        raise ValueError(f"an area has more than two decimals: {area!r}")
    return int(value)


def area_text(centi: int) -> str:
    """Hundredths of a m² as the decimal text the result stores ("1234.50")."""
    sign = "-" if centi < 0 else ""
    centi = abs(centi)
    return f"{sign}{centi // 100}.{centi % 100:02d}"


def _fraction(area) -> Fraction:
    return Fraction(Decimal(str(area))) if area is not None else Fraction(0)


def tally(kind: str, questions, ballots, *, areas=None, counts=None) -> dict:
    """Add the ballots up.

    ``questions``: ``[(question_id, [option_id, …]), …]`` in order. ``ballots``: the ballots'
    ``choices`` in canonical form (``{"<question id>": [option ids]}`` for choice and approval,
    ``{"<question id>": option id}`` for rating; a "comments" key is ignored). ``areas``: for
    owners' votes, each ballot's floor area (same order as ``ballots``), else None. ``counts``:
    when ``ballots`` lists distinct ballots, how many of each were cast (``areas`` then holds the
    summed area of each group); None: one each.

    Returns JSON-ready figures: ``{"kind", "ballots", "area", "questions": [{"id", "answered",
    "blank", "area", "options": [{"id", "votes", "area"}]}]}`` with areas as decimal text. A
    ballot naming an option its question does not have raises ValueError: stored ballots were
    checked when cast, so one that fails here is damage, not a vote to count.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}")
    qids = [str(q) for q, _options in questions]
    votes = {str(q): {str(o): 0 for o in options} for q, options in questions}
    weights = {str(q): {str(o): 0 for o in options} for q, options in questions}
    answered = dict.fromkeys(qids, 0)
    answered_area = dict.fromkeys(qids, 0)
    rating = kind == "rating"
    total = 0
    total_area = 0
    area_list = list(areas) if areas is not None else None
    count_list = list(counts) if counts is not None else None
    centi_of: dict = {}  # floor areas repeat (flats of a building share a plan): convert each once
    for index, choices in enumerate(ballots):
        many = count_list[index] if count_list is not None else 1
        total += many
        weight = 0
        if area_list is not None:
            area = area_list[index]
            weight = centi_of.get(area)
            if weight is None:
                weight = centi_of[area] = _centi(area)
        total_area += weight
        for qid in qids:
            picked = choices.get(qid)
            if picked is None or picked == []:
                continue
            counts = votes[qid]
            if rating or not isinstance(picked, list):
                picked = [picked]
            seen = set()
            for option in picked:
                key = str(option)
                if key not in counts or key in seen:
                    raise ValueError(f"a ballot names option {option!r} twice or not on question {qid}")
                seen.add(key)
                counts[key] += many
                if weight:
                    weights[qid][key] += weight
            answered[qid] += many
            answered_area[qid] += weight
    return {
        "kind": kind,
        "ballots": total,
        "area": area_text(total_area),
        "questions": [
            {"id": qid, "answered": answered[qid], "blank": total - answered[qid],
             "area": area_text(answered_area[qid]),
             "options": [{"id": oid, "votes": n, "area": area_text(weights[qid][oid])}
                         for oid, n in votes[qid].items()]}
            for qid in qids
        ],
    }


def merge(tallies: list[dict]) -> dict:
    """The sum of tallies of one vote's ballot groups (e.g. counted per grid)."""
    if not tallies:
        raise ValueError("nothing to merge")
    first = tallies[0]
    out = {"kind": first["kind"], "ballots": 0, "area": 0,
           "questions": [{"id": q["id"], "answered": 0, "blank": 0, "area": 0,
                          "options": [{"id": o["id"], "votes": 0, "area": 0} for o in q["options"]]}
                         for q in first["questions"]]}
    for part in tallies:
        out["ballots"] += part["ballots"]
        out["area"] += _centi(part["area"])
        for mine, theirs in zip(out["questions"], part["questions"]):
            for name in ("answered", "blank"):
                mine[name] += theirs[name]
            mine["area"] += _centi(theirs["area"])
            for option, other in zip(mine["options"], theirs["options"]):
                option["votes"] += other["votes"]
                option["area"] += _centi(other["area"])
    out["area"] = area_text(out["area"])
    for question in out["questions"]:
        question["area"] = area_text(question["area"])
        for option in question["options"]:
            option["area"] = area_text(option["area"])
    return out


# --- deciding -----------------------------------------------------------------------------------


@dataclass
class OptionFigures:
    id: str
    votes: int
    area: Fraction
    share: Fraction | None          # of the votes cast on the question (None: none cast)
    area_share: Fraction | None     # owners' rules: of the participating area
    meets: bool


@dataclass
class QuestionDecision:
    id: str
    answered: int
    options: list[OptionFigures]
    adopted: str | None             # the option that met the threshold, if one did
    passed: bool | None             # the first option ("agree") adopted; None under "tally"
    tie: bool                       # the most-voted options tie


@dataclass
class Decision:
    rule: str
    passed: bool | None
    questions: list[QuestionDecision] = field(default_factory=list)
    cast: int = 0                   # ballots counted
    eligible: int | None = None     # the roll's size for this vote's eligibility
    turnout: Fraction | None = None
    quorum_percent: int | None = None
    quorum_met: bool | None = None
    # owners' rules (art. 278)
    owner_count: int | None = None
    owner_area: Fraction | None = None
    cast_area: Fraction | None = None
    area_turnout: Fraction | None = None
    participation_met: bool | None = None
    threshold: Fraction | None = None
    inclusive: bool | None = None   # the threshold itself is enough (≥) or not (>)

    def as_dict(self) -> dict:
        """JSON-ready; fractions as "p/q" text and a float for display."""
        def frac(value):
            if value is None:
                return None
            return {"exact": f"{value.numerator}/{value.denominator}", "value": float(value)}

        return {
            "rule": self.rule, "passed": self.passed, "cast": self.cast, "eligible": self.eligible,
            "turnout": frac(self.turnout), "quorum_percent": self.quorum_percent, "quorum_met": self.quorum_met,
            "owner_count": self.owner_count, "owner_area": frac(self.owner_area), "cast_area": frac(self.cast_area),
            "area_turnout": frac(self.area_turnout), "participation_met": self.participation_met,
            "threshold": frac(self.threshold), "inclusive": self.inclusive,
            "questions": [
                {"id": q.id, "answered": q.answered, "adopted": q.adopted, "passed": q.passed, "tie": q.tie,
                 "options": [{"id": o.id, "votes": o.votes, "share": frac(o.share),
                              "area_share": frac(o.area_share), "meets": o.meets} for o in q.options]}
                for q in self.questions
            ],
        }


def roll_size(roll, eligibility: str) -> int | None:
    """How many could vote: people (adults), households, or owners (one per 专有部分)."""
    if roll is None:
        return None
    return {"adults": roll.people, "households": roll.households, "owners": roll.owners}.get(eligibility)


def _share(part, whole) -> Fraction | None:
    return Fraction(part) / Fraction(whole) if whole else None


def _reaches(share: Fraction | None, threshold: Fraction, inclusive: bool) -> bool:
    if share is None:
        return False
    return share >= threshold if inclusive else share > threshold


def decide(rule: str, tally: dict, roll=None, *, eligibility: str = "adults", quorum_percent: int = 50) -> Decision:
    """Apply ``rule`` to ``tally`` (from :func:`tally`); ``roll``: an object with ``people``,
    ``households``, ``owners`` and ``owner_area`` (``eligibility.RollSummary``), needed by
    ``quorum`` and the owners' rules. See the module doc for each rule."""
    if rule not in RULES:
        raise ValueError(f"unknown rule {rule!r}")
    cast = tally["ballots"]
    eligible = roll_size(roll, eligibility)
    decision = Decision(rule=rule, passed=None, cast=cast, eligible=eligible,
                        turnout=_share(cast, eligible) if eligible else None)
    owners_rule = rule in ("owners", "owners_special")
    gate = True
    if rule == "quorum":
        if roll is None:
            raise ValueError("the quorum rule needs the roll")
        decision.quorum_percent = quorum_percent
        decision.quorum_met = bool(eligible) and Fraction(cast, eligible) >= Fraction(quorum_percent, 100)
        gate = decision.quorum_met
    if owners_rule:
        if roll is None:
            raise ValueError("the owners' rules need the roll")
        decision.owner_count = roll.owners
        decision.owner_area = _fraction(roll.owner_area)
        decision.cast_area = _fraction(tally["area"])
        decision.turnout = _share(cast, roll.owners)
        decision.area_turnout = decision.cast_area / decision.owner_area if decision.owner_area else None
        decision.participation_met = (_reaches(decision.turnout, TWO_THIRDS, True)
                                      and _reaches(decision.area_turnout, TWO_THIRDS, True))
        gate = decision.participation_met
    if rule in ("majority", "quorum", "owners"):
        decision.threshold, decision.inclusive = HALF, False
    elif rule == "owners_special":
        decision.threshold, decision.inclusive = THREE_QUARTERS, True
    deciding = rule != "tally"
    passed_all = deciding
    for question in tally["questions"]:
        answered = question["answered"]
        top = max((o["votes"] for o in question["options"]), default=0)
        options = []
        for option in question["options"]:
            share = _share(option["votes"], answered)
            area_share = None
            meets = False
            if owners_rule:
                # The participating owners and area: every owner who voted (a blank answer is a
                # vote cast that did not agree), as art. 278 counts "参与表决".
                option_area = _fraction(option["area"])
                share = _share(option["votes"], cast)
                area_share = option_area / decision.cast_area if decision.cast_area else None
                meets = gate and (_reaches(share, decision.threshold, decision.inclusive)
                                  and _reaches(area_share, decision.threshold, decision.inclusive))
            elif deciding:
                meets = gate and _reaches(share, decision.threshold, decision.inclusive)
            options.append(OptionFigures(id=option["id"], votes=option["votes"],
                                         area=_fraction(option["area"]) if owners_rule else Fraction(0),
                                         share=share, area_share=area_share, meets=meets))
        met = [o.id for o in options if o.meets]
        adopted = met[0] if len(met) == 1 else None
        tie = top > 0 and sum(1 for o in options if o.votes == top) > 1
        passed = None
        if deciding:
            passed = bool(options) and adopted == options[0].id
            passed_all = passed_all and passed
        decision.questions.append(QuestionDecision(id=question["id"], answered=answered, options=options,
                                                   adopted=adopted, passed=passed, tie=tie))
    decision.passed = passed_all if deciding else None
    return decision
