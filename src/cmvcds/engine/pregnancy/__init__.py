"""The pregnancy pathway: the AIFA Law 648/96 valacyclovir protocol (prevention and in-utero treatment).

dating         gestational age and the dates of any age (EDD, LMP, dating scan; ACOG redating)
infection      maternal infection status (rule A1), onset window (I-2) and its timing
amniocentesis  the earliest valid date (A4) and the results a case reports
exclusions     age, creatinine and eGFR exclusions (A7, I-4)
prevention     valacyclovir-prevention: indication (A2) and course (A5)
fetal          Table 1 signs and valacyclovir-fetal-treatment (A6, A8)
monitoring     Table 2 schedule (unverified placeholders)
regimen        the regimen, computed by the dosing engine
pathway        evaluate(case, knowledge, on, settings) -> PathwayResult
"""

from cmvcds.engine.pregnancy.pathway import evaluate

__all__ = ["evaluate"]
