"""The closed vocabularies of the assessment (design.md §4), each member with its wording.

A value outside these enums cannot reach an output: adding a code is a design decision, made here
and in ``docs/design`` together, never ad hoc in a pathway.
"""

from __future__ import annotations

from enum import StrEnum


class Outcome(StrEnum):
    """What a decision concludes, in increasing order of how much a clinician must add."""

    RECOMMENDED = "recommended"
    NOT_INDICATED = "not_indicated"
    EXCLUDED = "excluded"
    SPECIALIST_REVIEW = "specialist_review"
    INSUFFICIENT_DATA = "insufficient_data"

    @property
    def wording(self) -> str:
        return {
            "recommended": "Recommended",
            "not_indicated": "Not indicated",
            "excluded": "Excluded (indicated, but an exclusion criterion applies)",
            "specialist_review": "Specialist review (outside the evidence base)",
            "insufficient_data": "Insufficient data",
        }[self.value]


class DecisionId(StrEnum):
    VALACYCLOVIR_PREVENTION = "valacyclovir-prevention"
    VALACYCLOVIR_FETAL_TREATMENT = "valacyclovir-fetal-treatment"
    VALGANCICLOVIR_CONGENITAL = "valganciclovir-congenital"
    ANTIVIRAL_PROPHYLAXIS = "antiviral-prophylaxis"
    PREEMPTIVE_THERAPY = "preemptive-therapy"
    ANTIVIRAL_TREATMENT = "antiviral-treatment"
    RESISTANCE_GENOTYPING = "resistance-genotyping"


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class AlertCode(StrEnum):
    SUSPECTED_RESISTANCE = "suspected-resistance"
    GENOTYPIC_RESISTANCE = "genotypic-resistance"
    REFRACTORY_CMV = "refractory-cmv"
    PROBABLE_REFRACTORY_CMV = "probable-refractory-cmv"
    CHECK_DOSING_ADHERENCE = "check-dosing-adherence"
    NEUTROPENIA = "neutropenia"
    THROMBOCYTOPENIA = "thrombocytopenia"
    ANEMIA = "anemia"
    MARROW_SUPPRESSION = "marrow-suppression"
    RENAL_EXCLUSION = "renal-exclusion"
    DOSE_BELOW_TARGET = "dose-below-target"
    DOSE_ABOVE_TARGET = "dose-above-target"
    DOSE_RENAL_ADJUSTMENT = "dose-renal-adjustment"
    THERAPY_BEYOND_EVIDENCE = "therapy-beyond-evidence"
    HIGH_DRUG_EXPOSURE = "high-drug-exposure"
    AMNIOCENTESIS_TOO_EARLY = "amniocentesis-too-early"
    LATE_TRANSMISSION_POSSIBLE = "late-transmission-possible"
    DRUG_INTERACTION = "drug-interaction"
    DRUG_INTOLERANCE = "drug-intolerance"
    ASSAY_MISMATCH = "assay-mismatch"
    EARLY_RISE_EXPECTED = "early-rise-expected"
    REDUCE_IMMUNOSUPPRESSION = "reduce-immunosuppression"
    HSV_VZV_PROPHYLAXIS_NEEDED = "hsv-vzv-prophylaxis-needed"
    NOT_A_TREATMENT_DRUG = "not-a-treatment-drug"
    POOR_CNS_OCULAR_PENETRATION = "poor-cns-ocular-penetration"
    LATE_CMV_RISK = "late-cmv-risk"
    IMMUNE_RECOVERY_UVEITIS = "immune-recovery-uveitis"
    START_ART = "start-art"
    HIV_VIROLOGIC_FAILURE = "hiv-virologic-failure"
    OPHTHALMOLOGY_FOLLOW_UP = "ophthalmology-follow-up"
    HEARING_DETERIORATION = "hearing-deterioration"
    FOLLOW_UP_FINDING = "follow-up-finding"
    CMV_SAFE_BLOOD_PRODUCTS = "cmv-safe-blood-products"
    OUTSIDE_EVIDENCE_BASE = "outside-evidence-base"
    LOW_EVIDENCE = "low-evidence"
    CONFIG_RANGE = "config-range"
    UNVERIFIED_FACT = "unverified-fact"
    BOUNDARY_CASE = "boundary-case"
    SOURCES_DIFFER = "sources-differ"
    CONTRADICTORY_INPUT = "contradictory-input"
    WEIGHT_OUT_OF_DATE = "weight-out-of-date"
    IMPLAUSIBLE_INPUT = "implausible-input"
    DNAEMIA_UNCLASSIFIED = "dnaemia-unclassified"
    CONFIRM_WEIGHT_UNIT = "confirm-weight-unit"
    PREGNANCY_FETAL_RISK = "pregnancy-fetal-risk"


class ScheduleEvent(StrEnum):
    AMNIOCENTESIS = "amniocentesis"
    STOP_VALACYCLOVIR = "stop-valacyclovir"
    VIRAL_LOAD = "viral-load"
    BLOOD_COUNT = "blood-count"
    RENAL_FUNCTION = "renal-function"
    LIVER_FUNCTION = "liver-function"
    FETAL_ULTRASOUND = "fetal-ultrasound"
    DOSE_REVIEW = "dose-review"
    HEARING = "hearing"
    OPHTHALMOLOGY = "ophthalmology"
    NEURODEVELOPMENT = "neurodevelopment"
    ELECTROLYTES = "electrolytes"
    URINE_PROTEIN = "urine-protein"
    GENOTYPE = "genotype"


class Indication(StrEnum):
    """The dose calculator's indications (design.md §4)."""

    INDUCTION = "induction"
    MAINTENANCE = "maintenance"
    PROPHYLAXIS = "prophylaxis"
    PREEMPTIVE = "preemptive"
    REFRACTORY = "refractory"
    CONGENITAL = "congenital"
    PREGNANCY_PREVENTION = "pregnancy-prevention"
    FETAL_TREATMENT = "fetal-treatment"


class Context(StrEnum):
    """The population a case belongs to; ``assess`` routes on it."""

    PREGNANCY = "pregnancy"
    CONGENITAL = "congenital"
    TRANSPLANT = "transplant"
    HIV = "hiv"
    IMMUNOCOMPROMISED = "immunocompromised"
    IMMUNOCOMPETENT = "immunocompetent"
