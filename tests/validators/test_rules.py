"""The rules validator: domain rule packs (YAML -> z3) against the reasons steps give."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from validators import validate
from validators.pipeline import analyse, validate_chain
from validators.rules.formula import FormulaError, parse
from validators.rules.pack import RulePackError, load_pack_file, load_packs, pack_for
from validators.rules.validator import RulesValidator
from validators.types import Budget, Chain

DIABETES_Q = "Does the patient have type 2 diabetes?"
LABS = "Lab results (fasting, morning): HbA1c 7.1 %. Fasting plasma glucose 142 mg/dL."


def report(reasoning, *, context="", pack="medical", question="q", answer="yes", **extra) -> dict:
    chain = {"question": question, "context": context, "reasoning": reasoning, "answer": answer}
    chain["rulepack"] = pack
    chain.update(extra)
    return validate(chain)


def rules_findings(r: dict) -> list[dict]:
    """The rules findings of a report, step findings first, each with its step index."""
    out = [dict(f, step=s["index"]) for s in r["steps"] for f in s["findings"]]
    out += list(r["findings"])
    return [f for f in out if f["validator"] == "rules"]


def codes(r: dict) -> list[str]:
    return [f["code"] for f in rules_findings(r)]


def only_rules(chain: dict, pack_dir: str | None = None) -> dict:
    """A report with only the rules validator run (so that nothing else decides the outcome)."""
    return validate_chain(Chain.from_dict(chain), run=[RulesValidator(pack_dir)])


# --- the diabetes pair --------------------------------------------------------------------------


def test_diabetes_justified_by_hba1c_passes():
    r = report(
        "The patient's HbA1c is 7.1 %, which is above the 6.5 % threshold.\n"
        "Therefore the patient has type 2 diabetes.",
        context=LABS,
        question=DIABETES_Q,
    )
    assert codes(r) == []
    assert r["steps"][1]["status"] == "verified"
    assert r["laundering"] is False
    assert r["verdict"] == "faithful"


def test_diabetes_because_of_pizza_is_laundering_even_with_supporting_context():
    r = report(
        "The patient has type 2 diabetes because their favorite food is pizza.",
        context=LABS,
        question=DIABETES_Q,
    )
    [finding] = rules_findings(r)
    assert finding["code"] == "rules.reason_does_not_support"
    assert finding["severity"] == "error"
    assert r["laundering"] is True
    assert r["verdict"] == "unfaithful"
    assert finding["message"].startswith(
        "type 2 diabetes needs HbA1c ≥ 6.5 % or fasting glucose ≥ 126 mg/dL"
    )
    assert "the step cites only: their favorite food is pizza" in finding["message"]
    ev = finding["evidence"]
    assert ev["rule"] == "type2_diabetes" and ev["pack"] == "medical"
    assert "American Diabetes Association" in ev["source"]
    assert ev["requires"].startswith("hba1c >= 6.5 or fpg >= 126")
    # The context would have justified the diagnosis, and the evidence says so.
    assert ev["context_would_support"] is True
    assert "HbA1c 7.1 %" in ev["context_facts"]
    assert "would have supported it" in finding["message"]


def test_pizza_without_supporting_context_is_still_laundering():
    r = report("She has type 2 diabetes because she loves pizza.", context="Patient is 54.")
    [finding] = rules_findings(r)
    assert finding["code"] == "rules.reason_does_not_support"
    assert finding["evidence"]["context_would_support"] is False
    assert r["laundering"] is True


def test_diabetes_contradicted_by_the_cited_value():
    r = report("The patient has type 2 diabetes because her HbA1c is 5.2 %.", context="HbA1c 5.2 %")
    [finding] = rules_findings(r)
    assert finding["code"] == "rules.requirement_violated"
    assert "HbA1c 5.2 %" in finding["message"]
    assert [f["value"] for f in finding["evidence"]["facts"]] == ["HbA1c 5.2 %"]
    assert r["laundering"] is False  # a wrong inference from the right kind of fact
    assert r["first_error_step"] == 0


def test_cited_value_below_threshold_in_an_earlier_step():
    r = report(["Her fasting glucose is 104 mg/dL.", "Therefore she has type 2 diabetes."])
    [finding] = rules_findings(r)
    assert finding["code"] == "rules.requirement_violated"
    assert finding["step"] == 1
    assert "the earlier steps state fasting glucose 104 mg/dL" in finding["message"]


def test_therefore_after_an_irrelevant_step_is_laundering():
    r = report(
        ["The patient enjoys long walks on the beach.", "Therefore she has type 2 diabetes."]
    )
    assert codes(r) == ["rules.reason_does_not_support"]
    assert r["laundering"] is True


# --- obesity, hypertension, anaemia -------------------------------------------------------------


@pytest.mark.parametrize(
    "reasoning",
    [
        "His BMI is 31.2 kg/m², so he is obese.",
        "With a body-mass index of 34, she is classified as obese.",
        "He is obese because he weighs 120 kg and is 1.80 m tall.",  # BMI 37.0, derived
        "She weighs 220 lb and her height is 64 inches, so she is obese.",  # BMI 37.8
    ],
)
def test_obesity_justified(reasoning):
    r = report(reasoning)
    assert codes(r) == []
    assert r["steps"][-1]["status"] == "verified"


def test_obesity_with_bmi_below_30_is_violated():
    r = report("He is obese because his BMI is 27.")
    [finding] = rules_findings(r)
    assert finding["code"] == "rules.requirement_violated"
    assert "obesity needs BMI ≥ 30 kg/m²" in finding["message"]
    assert "WHO" in finding["evidence"]["source"]


def test_obesity_from_weight_and_height_below_30_is_violated():
    r = report("He is obese because he weighs 70 kg and is 1.80 m tall.")  # BMI 21.6
    assert codes(r) == ["rules.requirement_violated"]


@pytest.mark.parametrize(
    "reasoning",
    [
        "He has hypertension because his blood pressure is 135/85 mmHg.",
        "Two readings averaged 138/86 mmHg, which meets the ACC/AHA criteria for hypertension.",
        "The patient is hypertensive given a systolic pressure of 150 mmHg.",
        "Her diastolic blood pressure of 82 mmHg means she has hypertension.",
    ],
)
def test_hypertension_justified(reasoning):
    r = report(reasoning)
    assert codes(r) == []
    assert "verified" in [s["status"] for s in r["steps"]]


def test_hypertension_below_both_thresholds_is_violated():
    r = report("She has hypertension because her BP is 124/76 mmHg.")
    [finding] = rules_findings(r)
    assert finding["code"] == "rules.requirement_violated"
    assert (
        "systolic blood pressure ≥ 130 mmHg or diastolic blood pressure ≥ 80 mmHg"
        in (finding["message"])
    )
    assert "ACC/AHA" in finding["evidence"]["source"]


def test_stage_1_reading_does_not_justify_stage_2():
    r = report("With a blood pressure of 135/85 mmHg, the patient has stage 2 hypertension.")
    # Hypertension holds (ACC/AHA stage 1), stage 2 does not.
    assert codes(r) == ["rules.requirement_violated"]
    assert rules_findings(r)[0]["evidence"]["rule"] == "stage2_hypertension"


def test_hypertension_because_of_stress_is_laundering():
    r = report("He has hypertension because he is stressed at work.")
    assert codes(r) == ["rules.reason_does_not_support"]
    assert r["laundering"] is True


def test_anaemia_uses_less_than():
    assert codes(report("She is anemic with a hemoglobin of 10.1 g/dL.")) == []
    assert codes(report("She is anemic with a hemoglobin of 14.2 g/dL.")) == [
        "rules.requirement_violated"
    ]


# --- units ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reasoning", "expected"),
    [
        ("She has type 2 diabetes, as her fasting glucose is 7.0 mmol/L.", []),  # 126.1 mg/dL
        ("Her fasting plasma glucose of 7.4 (mmol/L implied) means she has type 2 diabetes.", []),
        ("Her HbA1c of 48 mmol/mol confirms type 2 diabetes.", []),  # 6.54 % (NGSP)
        ("Her HbA1c of 42 mmol/mol confirms type 2 diabetes.", ["rules.requirement_violated"]),
        (
            "She has type 2 diabetes because her fasting glucose is 6.5 mmol/L.",
            ["rules.requirement_violated"],
        ),
        ("Her hemoglobin of 105 g/L means she is anemic.", []),  # 10.5 g/dL
    ],
)
def test_unit_conversion(reasoning, expected):
    assert codes(report(reasoning)) == expected


def test_same_value_in_other_units_is_not_a_contradiction():
    r = report(
        "Her fasting glucose is 7.0 mmol/L, so she has type 2 diabetes.",
        context="Fasting glucose: 126 mg/dL.",
    )
    assert codes(r) == []


# --- facts against the context ------------------------------------------------------------------


def test_fact_contradicting_the_context():
    r = report("Her HbA1c is 6.8 %, so she has type 2 diabetes.", context="HbA1c 5.9 %.")
    findings = rules_findings(r)
    assert [f["code"] for f in findings] == ["rules.fact_contradicts_context"]
    assert "HbA1c 6.8 %" in findings[0]["message"] and "HbA1c 5.9 %" in findings[0]["message"]
    assert findings[0]["evidence"]["context_states"] == ["HbA1c 5.9 %"]


def test_rounded_restatement_is_not_a_contradiction():
    r = report("Her HbA1c is about 7 %, so she has type 2 diabetes.", context="HbA1c 6.96 %.")
    assert "rules.fact_contradicts_context" not in codes(r)
    r = report("Her HbA1c is 7 %, so she has type 2 diabetes.", context="HbA1c 6.8 %.")
    assert "rules.fact_contradicts_context" not in codes(r)


def test_several_values_in_the_context_are_not_contradicted():
    # Two readings: the step may mean either, so no claim is made.
    context = "HbA1c was 6.1 % in 2022. Her HbA1c is now 7.4 %."
    r = report("Her HbA1c is 7.4 %, so she has type 2 diabetes.", context=context)
    assert codes(r) == []


# --- finance -------------------------------------------------------------------------------------


def test_qualified_mortgage():
    ok = report(
        "The borrower's DTI is 36%, below the 43% limit, so the loan is a qualified mortgage.",
        pack="finance",
    )
    assert codes(ok) == []
    bad = report("With a DTI of 47%, the loan qualifies as a qualified mortgage.", pack="finance")
    [finding] = rules_findings(bad)
    assert finding["code"] == "rules.requirement_violated"
    assert "1026.43" in finding["evidence"]["source"]
    assert "debt-to-income ratio ≤ 43 %" in finding["message"]


def test_dti_as_a_fraction_is_read_as_percent():
    r = report("The DTI ratio is 0.38, so it is a qualified mortgage.", pack="finance")
    assert codes(r) == []


def test_qualified_mortgage_because_of_a_stable_job_is_laundering():
    r = report(
        "The loan is a qualified mortgage because the borrower has a stable job.", pack="finance"
    )
    assert codes(r) == ["rules.reason_does_not_support"]
    assert r["laundering"] is True


def test_loan_decision_justified_by_credit_score():
    assert (
        codes(
            report(
                "A credit score of 700 makes her eligible for a conventional loan.", pack="finance"
            )
        )
        == []
    )
    r = report(
        "Her credit score of 590 means she is eligible for a conventional loan.", pack="finance"
    )
    [finding] = rules_findings(r)
    assert finding["code"] == "rules.requirement_violated"
    assert "credit score ≥ 620" in finding["message"]
    assert "Fannie Mae" in finding["evidence"]["source"]


def test_partial_justification_is_a_warning_not_an_error():
    # Prime needs credit >= 660; "above 600" neither meets nor rules it out.
    r = report("Her credit score is above 600, so she is a prime borrower.", pack="finance")
    [finding] = rules_findings(r)
    assert finding["code"] == "rules.requirement_not_entailed"
    assert finding["severity"] == "warning"
    assert r["laundering"] is False


def test_mortgage_insurance_from_down_payment():
    ok = report("She puts 10% down, so she will need private mortgage insurance.", pack="finance")
    assert codes(ok) == []
    bad = report("She puts 25% down, so she will need private mortgage insurance.", pack="finance")
    assert codes(bad) == ["rules.requirement_violated"]


@pytest.mark.parametrize(
    ("reasoning", "expected"),
    [
        ("Bank A's rate of 5.2% is higher than Bank B's rate of 4.8%.", []),
        ("The 4.1% rate is higher than the 4.6% rate.", ["rules.comparison_wrong"]),
        ("The 4.1% APR is lower than the 4.6% APR.", []),
    ],
)
def test_stated_rates_compared(reasoning, expected):
    assert codes(report(reasoning, pack="finance")) == expected


def test_named_rates_compared_with_the_context():
    context = "Bank A offers a 30-year mortgage at 6.1% APR. Bank B offers 5.7% APR."
    assert (
        codes(report("Bank A's rate is higher than Bank B's.", context=context, pack="finance"))
        == []
    )
    r = report("Bank B's rate is higher than Bank A's.", context=context, pack="finance")
    [finding] = rules_findings(r)
    assert finding["code"] == "rules.comparison_wrong"
    assert finding["evidence"]["left_value"] == "57/10"


# --- legal ---------------------------------------------------------------------------------------

LEGAL_CONTEXT = (
    "Brown v. Board of Education, 347 U.S. 483 (1954), held that state-sanctioned segregation of "
    "public schools violates the Equal Protection Clause. 42 U.S.C. § 1983 provides a cause of "
    "action against state actors."
)


def test_cited_case_present_in_context():
    r = report(
        ["Under Brown v. Board of Education, the school's segregation policy is unconstitutional."],
        context=LEGAL_CONTEXT,
        pack="legal",
    )
    assert codes(r) == []
    assert r["steps"][0]["status"] == "verified"


def test_cited_case_absent_from_context_is_laundering_when_it_is_the_reason():
    r = report(
        ["Under Smith v. Jones, 123 F.3d 456 (9th Cir. 1997), the school is liable."],
        context=LEGAL_CONTEXT,
        pack="legal",
    )
    [finding] = rules_findings(r)
    assert finding["code"] == "rules.citation_not_in_context"
    assert "Smith v. Jones" in finding["message"]
    assert finding["evidence"]["reason_of_conclusion"] is True
    assert r["laundering"] is True


def test_cited_case_absent_but_not_a_reason_is_an_error_without_laundering():
    r = report(
        [
            "Brown v. Board of Education, 347 U.S. 483 (1954), ended school segregation.",
            "Smith v. Jones is another well-known case.",
        ],
        context=LEGAL_CONTEXT,
        pack="legal",
    )
    assert codes(r) == ["rules.citation_not_in_context"]
    assert rules_findings(r)[0]["step"] == 1
    assert r["laundering"] is False


@pytest.mark.parametrize(
    ("step", "expected"),
    [
        ("The plaintiff may sue under 42 U.S.C. § 1983.", []),
        ("The plaintiff may sue under section 1983.", []),
        ("The plaintiff may sue under 42 U.S.C. § 1985.", ["rules.citation_not_in_context"]),
    ],
)
def test_cited_statute(step, expected):
    assert codes(report([step], context=LEGAL_CONTEXT, pack="legal")) == expected


def test_citations_are_not_checked_without_a_context():
    assert codes(report(["Under Smith v. Jones the school is liable."], pack="legal")) == []


def test_limitation_period_rule():
    ok = report(
        "The statute of limitations is 4 years and she filed suit 5 years after the breach, "
        "so the claim is time-barred.",
        pack="legal",
    )
    assert codes(ok) == []
    bad = report(
        [
            "She filed suit 2 years after the breach; the statute of limitations is 4 years, "
            "so the claim is time-barred."
        ],
        pack="legal",
    )
    assert codes(bad) == ["rules.requirement_violated"]


def test_minority_rule():
    assert (
        codes(report("The buyer was 16 years old when he signed, so he was a minor.", pack="legal"))
        == []
    )
    assert codes(report("The buyer was a minor because he was 25 years old.", pack="legal")) == [
        "rules.requirement_violated"
    ]


# --- what must not be flagged --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pack", "reasoning"),
    [
        (
            "medical",
            "Given an HbA1c of 7.2%, the patient meets the ADA criteria for type 2 diabetes.",
        ),
        (
            "medical",
            "Fasting plasma glucose was 132 mg/dL on two occasions; this confirms type 2 diabetes.",
        ),
        ("medical", "She has type 2 diabetes (HbA1c 7.4%, FPG 150 mg/dL)."),
        ("medical", "HbA1c = 6.9%. Since 6.9% ≥ 6.5%, she is diagnosed with type 2 diabetes."),
        (
            "medical",
            "1. The fasting glucose is 7.8 mmol/L.\n2. This exceeds 7.0 mmol/L.\n"
            "3. Hence the patient has type 2 diabetes.",
        ),
        ("medical", "Her A1c came back at 8.3%.\nBased on this result, she has type 2 diabetes."),
        (
            "medical",
            "Random plasma glucose was 260 mg/dL and she reports polyuria and polydipsia, "
            "so she has type 2 diabetes.",
        ),
        ("medical", "A 2-hour OGTT glucose of 215 mg/dL means the patient has type 2 diabetes."),
        ("medical", "Since her HbA1c is above 7%, she has type 2 diabetes."),
        ("medical", "She has prediabetes since her HbA1c is 6.0%."),
        ("medical", "Her HbA1c of 7.1% is diagnostic of type 2 diabetes."),
        (
            "medical",
            "HbA1c is 7.1%.\nThe patient is also overweight.\nTherefore she has type 2 diabetes.",
        ),
        (
            "medical",
            "Is the patient diabetic? The HbA1c is 7.5%, so yes, the patient has type 2 diabetes.",
        ),
        (
            "finance",
            "With monthly debts of $1,800 and income of $5,000, the DTI is 36%, "
            "so it qualifies as a QM.",
        ),
        ("finance", "Her FICO score of 745 means she is a super-prime borrower."),
        ("finance", "She is a subprime borrower since her credit score is 598."),
        (
            "finance",
            "Bank A charges 6.1% while Bank B charges 5.7%, "
            "so Bank B's rate is lower than Bank A's.",
        ),
        ("legal", "A 17-year-old signed the lease, so he was a minor."),
    ],
)
def test_valid_justifications_in_other_words_are_verified(pack, reasoning):
    r = report(reasoning, pack=pack)
    assert codes(r) == [], rules_findings(r)
    assert r["steps"][-1]["status"] == "verified"
    assert r["laundering"] is False


@pytest.mark.parametrize(
    ("pack", "reasoning"),
    [
        ("medical", "The patient does not have type 2 diabetes because her HbA1c is 5.4%."),
        ("medical", "We need to decide whether the patient has type 2 diabetes."),
        ("medical", "A diagnosis of type 2 diabetes requires an HbA1c of at least 6.5%."),
        ("medical", "She may have type 2 diabetes; further testing is needed."),
        ("medical", "Type 2 diabetes is diagnosed when fasting glucose is 126 mg/dL or higher."),
        ("medical", "She has had type 2 diabetes since 2015 and now presents with foot pain."),
        ("medical", "Patients with an HbA1c of 6.5% or higher have diabetes."),
        ("medical", "She is not obese, since her BMI is 24."),
        ("medical", "Does the patient have hypertension?"),
        ("finance", "The loan is not a qualified mortgage because the DTI is 48%."),
        (
            "legal",
            "Six years later she sued; the claim may be time-barred if the period is 4 years.",
        ),
    ],
)
def test_negated_hedged_general_and_historical_statements_are_not_checked(pack, reasoning):
    r = report(reasoning, pack=pack)
    assert codes(r) == [], rules_findings(r)
    assert r["laundering"] is False


def test_a_risk_factor_is_not_a_diabetes_conclusion():
    r = report("The patient is at risk of type 2 diabetes because she is obese.")
    assert all(f["evidence"]["rule"] != "type2_diabetes" for f in rules_findings(r))
    assert r["laundering"] is False


def test_gsm8k_chains_under_every_pack_are_not_flagged(data_dir):
    rows = [json.loads(line) for line in (data_dir / "gsm8k" / "train.jsonl").open()][:300]
    validator = RulesValidator()
    for pack in ("medical", "finance", "legal"):
        for row in rows:
            reasoning, answer = row["answer"].split("####")
            chain = Chain.from_dict(
                {
                    "question": row["question"],
                    "reasoning": reasoning,
                    "answer": answer.strip(),
                    "rulepack": pack,
                }
            )
            analysis = analyse(chain, Budget(5))
            validator.check(analysis)
            found = [
                f.message for s in analysis.steps for f in s.findings if f.validator == "rules"
            ]
            assert found == [], (pack, row["question"], found)
            assert analysis.laundering is False


# --- pack selection ------------------------------------------------------------------------------


def test_no_pack_no_domain_does_nothing():
    chain = Chain.from_dict(
        {"question": "q", "reasoning": "She has type 2 diabetes because of pizza."}
    )
    analysis = analyse(chain, Budget(1))
    RulesValidator().check(analysis)
    assert analysis.findings == [] and all(not s.findings and not s.held for s in analysis.steps)


def test_domain_maps_to_a_pack():
    r = validate(
        {"question": "q", "reasoning": "He is obese because his BMI is 27.", "domain": "Clinical"}
    )
    assert codes(r) == ["rules.requirement_violated"]
    r = validate(
        {"question": "q", "reasoning": "He is obese because his BMI is 27.", "domain": "sports"}
    )
    assert codes(r) == []


def test_unknown_rulepack_is_a_warning():
    r = validate({"question": "q", "reasoning": "x", "rulepack": "../../etc/passwd"})
    [finding] = rules_findings(r)
    assert finding["code"] == "rules.unknown_pack" and finding["severity"] == "warning"
    assert "finance, legal, medical" in finding["message"]


def test_packs_are_loaded_once_per_process():
    assert load_packs() is load_packs()
    pack, note = pack_for("MEDICAL", None)
    assert pack is load_packs()["medical"] and note is None


def test_every_conclusion_names_its_source():
    for pack in load_packs().values():
        for conclusion in pack.conclusions.values():
            assert len(conclusion.source.strip()) > 20, (pack.name, conclusion.name)


# --- malformed packs ----------------------------------------------------------------------------

GOOD_PACK = """
name: toy
version: "1"
facts:
  score:
    unit: points
    units: {points: {pattern: "points?"}}
    names: ["score"]
conclusions:
  passed:
    patterns: ["\\\\bpassed\\\\b"]
    requires: "score >= 50"
    source: "the toy rule book, section 1"
"""


@pytest.mark.parametrize(
    ("broken", "field"),
    [
        (
            GOOD_PACK.replace('requires: "score >= 50"', 'requires: "score >= "'),
            "conclusions.passed.requires",
        ),
        (
            GOOD_PACK.replace('requires: "score >= 50"', 'requires: "grade >= 50"'),
            "conclusions.passed.requires",
        ),
        (
            GOOD_PACK.replace('requires: "score >= 50"', 'requires: "__import__(1)"'),
            "conclusions.passed.requires",
        ),
        (
            GOOD_PACK.replace('    source: "the toy rule book, section 1"\n', ""),
            "conclusions.passed.source",
        ),
        (GOOD_PACK.replace('["score"]', '["sc(ore"]'), "facts.score.names[0]"),
        (GOOD_PACK.replace("unit: points", "unit: grams"), "facts.score.unit"),
        (
            GOOD_PACK.replace(
                '{points: {pattern: "points?"}}', '{points: {pattern: "points?", factor: 2}}'
            ),
            "facts.score.units.points",
        ),
        (GOOD_PACK.replace('version: "1"\n', ""), "version"),
        (GOOD_PACK.replace("name: toy", "name: Toy Pack"), "name"),
        ("name: [unclosed", None),
    ],
)
def test_malformed_pack_names_file_and_field(tmp_path: Path, broken: str, field: str | None):
    path = tmp_path / "toy.yaml"
    path.write_text(broken, encoding="utf-8")
    with pytest.raises(RulePackError) as err:
        load_pack_file(path)
    assert str(path) in str(err.value)
    if field is not None:
        assert f"field '{field}'" in str(err.value)
    else:
        assert "not valid YAML" in str(err.value)


def test_good_toy_pack_works_through_the_validator(tmp_path: Path):
    (tmp_path / "toy.yaml").write_text(GOOD_PACK, encoding="utf-8")
    chain = {
        "question": "q",
        "reasoning": "She passed because her score is 40 points.",
        "rulepack": "toy",
    }
    r = only_rules(chain, str(tmp_path))
    assert codes(r) == ["rules.requirement_violated"]


def test_malformed_pack_in_use_is_reported_not_raised(tmp_path: Path):
    (tmp_path / "toy.yaml").write_text(
        GOOD_PACK.replace("score >= 50", "score >="), encoding="utf-8"
    )
    r = only_rules({"question": "q", "reasoning": "x", "rulepack": "toy"}, str(tmp_path))
    [finding] = rules_findings(r)
    assert finding["code"] == "rules.unchecked"
    assert "toy.yaml" in finding["message"]


def test_formula_parser_rejects_code():
    kinds = {"x": "quantity", "f": "flag"}
    for bad in [
        "__import__('os')",
        "x >= 1; x",
        "x.real > 1",
        "x ** 2 > 1",
        "f > 1",
        "x",
        "(" * 100 + "f" + ")" * 100,
    ]:
        with pytest.raises(FormulaError):
            parse(bad, kinds)
    assert parse("not (x >= 1 and f) or x * 2 < 3", kinds).op == "or"


# --- pathological input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "chain",
    [
        {"reasoning": ["HbA1c 7.1 %. " * 80_000 + "She has type 2 diabetes because of pizza."]},
        {"reasoning": "The patient has type 2 diabetes because of pizza. " * 20_000},
        {
            "reasoning": ["HbA1c " + "9" * 19_000 + " %, so she has type 2 diabetes."],
            "context": "HbA1c " + "9" * 100_000,
        },
        {"reasoning": ["HbA1c 9**9**9**9 %, so she has type 2 diabetes."]},
        {"reasoning": ["(" * 9_000 + "HbA1c 7 %" + ")" * 9_000 + " so she has type 2 diabetes"]},
        {
            "reasoning": ["She has type 2 diabetes because of pizza."],
            "context": "HbA1c 7.1 %, BP 140/90 mmHg. " * 40_000,
        },
        {
            "reasoning": [
                "Under " + "Smith " * 5_000 + "v. " + "Jones " * 5_000 + "she is liable."
            ],
            "context": "Alpha v. Beta " * 20_000,
            "rulepack": "legal",
        },
        {
            "reasoning": ["Bank " * 4_000 + "rate is higher than Bank A's."],
            "context": "Bank A 5% " * 30_000,
            "rulepack": "finance",
        },
    ],
)
def test_pathological_input_finishes_with_a_report(chain):
    chain = {"question": "q", "rulepack": "medical", **chain}
    r = only_rules(chain)
    assert not [
        f
        for f in rules_findings(r)
        if f["code"] == "rules.unchecked" and "could not" in f["message"]
    ]
    assert r["steps"]


def test_spent_budget_marks_the_chain_unchecked():
    chain = Chain.from_dict(
        {"question": "q", "reasoning": "He is obese because his BMI is 27.", "rulepack": "medical"}
    )
    analysis = analyse(chain, Budget(0))
    RulesValidator().check(analysis)
    assert [f.code for f in analysis.findings] == ["rules.unchecked"]
    assert not analysis.steps[0].findings


def test_pack_file_format_is_documented():
    doc = (Path(__file__).resolve().parents[2] / "docs" / "rulepacks.md").read_text(
        encoding="utf-8"
    )
    for field in (
        "facts",
        "units",
        "names",
        "extractors",
        "derived",
        "conclusions",
        "requires",
        "source",
        "citations",
    ):
        assert f"`{field}`" in doc, field


def test_threads_get_the_same_reports():
    # The service validates in a thread pool; each thread has its own z3 context.
    from concurrent.futures import ThreadPoolExecutor

    chains = [
        {"question": "q", "reasoning": text, "rulepack": "medical"}
        for text in (
            "He is obese because his BMI is 27.",
            "His BMI is 31.2 kg/m², so he is obese.",
            "She has type 2 diabetes because she loves pizza.",
            "She has type 2 diabetes, as her fasting glucose is 7.0 mmol/L.",
        )
    ] * 10
    expected = [codes(only_rules(c)) for c in chains]
    with ThreadPoolExecutor(max_workers=4) as pool:
        got = list(pool.map(lambda c: codes(only_rules(c)), chains))
    assert got == expected
    assert expected[0] == ["rules.requirement_violated"] and expected[1] == []
