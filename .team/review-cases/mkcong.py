exec(open('/tmp/review/gen.py').read())
def cb(**kw):
    d=dict(format='cmvcds-case/1', id='c', assessed_on='2026-03-10', context='congenital',
      patient=dict(sex='male', birth_date='2026-03-01', weight_kg=3.2),
      congenital={'gestational_age_at_birth':'38+2','birth_weight_kg':3.2,'diagnosis':{'date':'2026-03-03','specimen':'urine'},
                  'manifestations':['microcephaly','thrombocytopenia','hepatomegaly'],'hearing':'bilateral_snhl'},
      observations=[{'date':'2026-03-03','code':'cmv_dna','specimen':'urine','result':'detected'},
                    {'date':'2026-03-09','code':'weight','value':3.2,'unit':'kg'},
                    {'date':'2026-03-09','code':'creatinine','value':0.4,'unit':'mg/dL'},
                    {'date':'2026-03-09','code':'anc','value':2800,'unit':'cells/uL'}], therapy=[])
    return d
w('c01_term', cb())
d=cb(); d['congenital']['gestational_age_at_birth']='31+6'; d['congenital']['birth_weight_kg']=1.9; d['patient']['weight_kg']=1.9; d['observations'][1]['value']=1.9; w('c02_preterm31p6',d)
d=cb(); d['congenital']['gestational_age_at_birth']='32+0'; d['congenital']['birth_weight_kg']=1.9; d['patient']['weight_kg']=1.9; d['observations'][1]['value']=1.9; w('c02b_preterm32p0',d)
d=cb(); d['congenital']['birth_weight_kg']=1.75; d['patient']['weight_kg']=1.79; d['observations'][1]['value']=1.79; w('c02c_wt1790',d)
# day 30 vs day 31 (birth 03-01: day 30 = 03-31, day 31 = 04-01)
d=cb(); d['assessed_on']='2026-03-31'; w('c03a_day30',d)
d=cb(); d['assessed_on']='2026-04-01'; w('c03b_day31',d)
d=cb(); d['congenital']['manifestations']=[]; d['congenital']['hearing']='unilateral_snhl'; w('c04_isolated_snhl',d)
d=cb(); d['congenital']['manifestations']=['petechiae']; d['congenital']['hearing']='normal'; w('c05_mild_petechiae',d)
d=cb(); d['congenital']['manifestations']=['petechiae','hepatomegaly']; d['congenital']['hearing']='normal'; w('c05b_two_findings',d)
d=cb(); d['congenital']['manifestations']=[]; d['congenital']['hearing']='not_tested'; w('c05c_asym_nottested',d)
# diagnosis on day 25 (beyond 21 days) -> congenital not confirmed
d=cb(); d['congenital']['diagnosis']={'date':'2026-03-26','specimen':'urine'}; d['observations'][0]['date']='2026-03-26'; d['assessed_on']='2026-03-27'; w('c06_dx_day25',d)
d=cb(); d['congenital']['diagnosis']={'date':'2026-03-03','specimen':'blood'}; d['observations'][0]['specimen']='plasma'; w('c06b_dx_blood',d)
# weight gain with old dose
d=cb(); d['assessed_on']='2026-05-10'; d['observations'].append({'date':'2026-05-09','code':'weight','value':4.6,'unit':'kg'}); d['therapy']=[{'drug':'valganciclovir','dose_mg':51,'every_h':12,'route':'oral','start':'2026-03-10'}]; w('c07_weightgain',d)
d=cb(); d['assessed_on']='2026-05-10'; d['observations'].append({'date':'2026-05-09','code':'weight','value':3.5,'unit':'kg'}); d['therapy']=[{'drug':'valganciclovir','dose_mg':51,'every_h':12,'route':'oral','start':'2026-03-10'}]; w('c07b_weightgain_small',d)
# patient.weight_kg vs weight observation disagree
d=cb(); d['patient']['weight_kg']=4.0; w('c08_weight_conflict',d)
# ANC low
d=cb(); d['observations'][3]['value']=450; w('c09_anc450',d)
d=cb(); d['observations'][3]['value']=500; w('c09b_anc500',d)
# on therapy, ANC 450
d=cb(); d['assessed_on']='2026-04-01'; d['therapy']=[{'drug':'valganciclovir','dose_mg':51,'every_h':12,'route':'oral','start':'2026-03-10'}]; d['observations'].append({'date':'2026-03-31','code':'anc','value':450,'unit':'cells/uL'}); w('c09c_ontx_anc450',d)
# no weight
d=cb(); del d['patient']['weight_kg']; d['observations'].pop(1); w('c10_noweight',d)
# can't take oral
d=cb(); d['patient']['can_take_oral']=False; w('c11_iv',d)
# birth weight 0.2
d=cb(); d['patient']['weight_kg']=25; d['observations'][1]['value']=25; w('c12_neonate25kg',d)
d=cb(); d['congenital']['gestational_age_at_birth']='45+0'; w('c13_ga45',d)
d=cb(); d['congenital']['diagnosis']['date']='2026-02-20'; w('c14_dx_before_birth',d)
