exec(open('/tmp/review/gen.py').read())
def kb(cr, unit='mg/dL', **kw):
    return dict(format='cmvcds-case/1', id='k', assessed_on='2026-03-06', context='transplant',
      patient=dict(sex='male', age_years=60, weight_kg=72, height_cm=175),
      transplant=dict(organ='kidney', date='2026-03-01', donor_cmv_igg='positive', recipient_cmv_igg='negative', co_medications=['tacrolimus']),
      observations=[{'date':'2026-03-05','code':'creatinine','value':cr,'unit':unit},{'date':'2026-03-05','code':'anc','value':3200,'unit':'cells/uL'}])
for n,cr,u in [('t01a_crcl40',2.0,'mg/dL'),('t01b_crcl39.8',2.01,'mg/dL'),('t01c_crcl39',2.05,'mg/dL'),('t01d_crcl40_umol',176.8,'umol/L'),('t01e_crcl60',1.3333,'mg/dL'),('t01f_crcl10',8.0,'mg/dL'),('t01g_crcl9',8.9,'mg/dL')]:
    w(n,kb(cr,u))
d=kb(2.0); d['patient']['sex']='female'; d['patient']['weight_kg']=84; d['patient']['age_years']=20; d['observations'][0]['value']=Decimal if False else 1.7; w('t01h_female_edge70',d)
d=kb(1.0); d['transplant']['donor_cmv_igg']=None; del d['transplant']['donor_cmv_igg']; w('t02_no_donor',d)
d=kb(1.0); d['patient']['age_years']=16; w('t03_peds16',d)
d=kb(1.0); del d['observations'][0]; w('t04_no_cr',d)
d=kb(1.0); d['patient']['dialysis']='hemodialysis'; w('t05_hd',d)
d=kb(1.0); d['observations'][1]['value']=400; w('t06_anc400',d)
d=kb(1.0); d['transplant']['organ']='liver'; w('t07_liver_dposrneg',d)
d=kb(1.0); d['transplant']['organ']='lung'; w('t07b_lung',d)
d=kb(1.0); d['transplant']['recipient_cmv_igg']='positive'; d['transplant']['organ']='liver'; w('t07c_liver_rpos_pet',d)
d=kb(1.0); d['transplant']['donor_cmv_igg']='negative'; w('t08_dnegrneg',d)
d=kb(1.0); d['assessed_on']='2026-03-15'; w('t09_day14',d)
d=kb(1.0); d['transplant']['date']='2027-03-01'; w('t10_future_tx',d)
# HSCT
def hb(**kw):
    return dict(format='cmvcds-case/1', id='h', assessed_on='2026-05-04', context='transplant',
      patient=dict(sex='female', age_years=45, weight_kg=65, height_cm=165),
      transplant=dict(organ='hsct', allogeneic=True, date='2026-05-01', donor_cmv_igg='negative', recipient_cmv_igg='positive', co_medications=['cyclosporine']),
      observations=[{'date':'2026-05-03','code':'creatinine','value':0.8,'unit':'mg/dL'},{'date':'2026-05-03','code':'anc','value':2000,'unit':'cells/uL'}])
d=hb(); d['transplant']['co_medications']=['tacrolimus']; w('h01_tacro',d)
d=hb(); d['assessed_on']='2026-05-30'; w('h02_day29',d)
d=hb(); d['patient']['age_years']=17; w('h03_age17',d)
d=hb(); d['transplant']['recipient_cmv_igg']='negative'; d['transplant']['donor_cmv_igg']='positive'; w('h04_dposrneg',d)
d=hb(); d['transplant']['allogeneic']=False; w('h05_auto',d)
d=hb(); del d['transplant']['allogeneic']; w('h05b_allo_missing',d)
d=hb(); d['patient']['weight_kg']=28; w('h06_wt28',d)
d=hb(); d['transplant']['co_medications']=['cyclosporine','simvastatin']; w('h07_simva',d)
d=hb(); d['assessed_on']='2026-07-31'; d['transplant']['hsct_risk']=['haploidentical']; d['therapy']=[{'drug':'letermovir','dose_mg':240,'every_h':24,'route':'oral','start':'2026-05-02'}]; w('h08_day91_haplo',d)
d=hb(); d['assessed_on']='2026-06-01'; d['therapy']=[{'drug':'letermovir','dose_mg':240,'every_h':24,'route':'oral','start':'2026-05-02'}]; d['observations']+=[{'date':'2026-05-31','code':'cmv_dna','specimen':'plasma','value':800,'unit':'IU/mL'}]; w('h09_pet_on_lmv',d)
d=hb(); d['assessed_on']='2026-06-01'; d['therapy']=[{'drug':'letermovir','dose_mg':480,'every_h':24,'route':'oral','start':'2026-05-02'}]; w('h10_wrong_lmv_dose',d)
# refractory variants
def rb():
    return dict(format='cmvcds-case/1', id='r', assessed_on='2026-06-19', context='transplant',
      patient=dict(sex='male', age_years=60, weight_kg=70, height_cm=175, can_take_oral=True),
      transplant=dict(organ='kidney', date='2026-01-10', donor_cmv_igg='positive', recipient_cmv_igg='positive', co_medications=['tacrolimus']),
      presentation=dict(disease='cmv_syndrome', severity='moderate', course='stable'),
      observations=[{'date':'2026-06-18','code':'creatinine','value':1.0,'unit':'mg/dL'},
                    {'date':'2026-05-30','code':'cmv_dna','specimen':'plasma','value':10000,'unit':'IU/mL'},
                    {'date':'2026-06-19','code':'cmv_dna','specimen':'plasma','value':200000,'unit':'IU/mL'}],
      therapy=[{'drug':'valganciclovir','dose_mg':900,'every_h':24,'route':'oral','start':'2026-01-12','stop':'2026-04-20','indication':'prophylaxis'},
               {'drug':'valganciclovir','dose_mg':900,'every_h':12,'route':'oral','start':'2026-06-01','indication':'induction'}])
d=rb(); w('r00_base_nogeno',d)
d=rb(); d['observations'][2]['value']=100000; w('r01_delta_exact1',d)
d=rb(); d['assessed_on']='2026-06-10'; d['observations'][2]['date']='2026-06-10'; w('r02_early_rise',d)
d=rb(); d['observations'][2]['specimen']='whole_blood'; w('r03_assay_mismatch',d)
d=rb(); d['therapy'][1]['dose_mg']=450; w('r04_underdosed',d)
d=rb(); d['presentation']['organs']=['retinitis']; d['presentation']['disease']='tissue_invasive'; d['genotype']=[{'date':'2026-06-19','mutations':['UL97:M460V'],'genes_tested':['UL97','UL54']}]; w('r05_retinitis_m460v',d)
d=rb(); d['genotype']=[{'date':'2026-06-19','mutations':['UL97:M460V'],'genes_tested':['UL97','UL54']}]; w('r06_m460v',d)
d=rb(); d['genotype']=[{'date':'2026-06-19','mutations':['UL97:M460V','UL54:A809V'],'genes_tested':['UL97','UL54']}]; w('r07_m460v_a809v',d)
d=rb(); d['observations'][0]['value']=2.5; w('r08_renal_refractory',d)
