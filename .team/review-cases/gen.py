import yaml, sys, os, copy, json, subprocess
BASE = dict(format='cmvcds-case/1', id='p', assessed_on='2026-03-02', context='pregnancy',
  patient=dict(sex='female', birth_date='1992-04-11', weight_kg=64, height_cm=166),
  pregnancy=dict(lmp='2025-12-20', fetuses=1), observations=[], ultrasound=[], therapy=[])
def w(name, d):
    p=f'/tmp/review/cases/{name}.yaml'
    with open(p,'w') as f: yaml.safe_dump(d,f,sort_keys=False, default_flow_style=None)
    return p
