exec(open('/tmp/review/gen.py').read())
def hv():
    return dict(format='cmvcds-case/1', id='v', assessed_on='2026-03-10', context='hiv',
      patient=dict(sex='male', age_years=38, weight_kg=70, height_cm=178, can_take_oral=True),
      hiv=dict(on_art=False, retinitis=dict(zone=2, active=True, sight_threatening=False)),
      observations=[{'date':'2026-03-09','code':'creatinine','value':0.9,'unit':'mg/dL'},{'date':'2026-03-09','code':'cd4','value':30,'unit':'cells/uL'}])
d=hv(); w('v01_zone2',d)
d=hv(); d['observations'][0]['value']=2.0; w('v02_zone2_renal',d)   # CrCl (102*70)/(144)=49.6 -> 450 BID
d=hv(); del d['observations'][1]; w('v03_nocd4',d)
# maintenance stop with a CD4 dip inside window
d=dict(format='cmvcds-case/1', id='m', assessed_on='2026-08-15', context='hiv',
  patient=dict(sex='male', age_years=38, weight_kg=70, height_cm=178),
  hiv=dict(on_art=True, art_start='2026-01-01', retinitis=dict(zone=2, active=False)),
  observations=[{'date':'2026-08-01','code':'creatinine','value':0.9,'unit':'mg/dL'},
    {'date':'2026-04-15','code':'cd4','value':120,'unit':'cells/uL'},{'date':'2026-06-10','code':'cd4','value':95,'unit':'cells/uL'},{'date':'2026-08-12','code':'cd4','value':180,'unit':'cells/uL'}],
  therapy=[{'drug':'valganciclovir','dose_mg':900,'every_h':12,'route':'oral','start':'2026-02-01','stop':'2026-02-21','indication':'induction'},
           {'drug':'valganciclovir','dose_mg':900,'every_h':24,'route':'oral','start':'2026-02-22','indication':'maintenance'}])
w('v04_cd4dip',d)
d2=copy.deepcopy(d); d2['observations'][2]['value']=100; w('v04b_cd4_100',d2)
d3=copy.deepcopy(d); d3['observations']=[d['observations'][0],{'date':'2026-08-12','code':'cd4','value':180,'unit':'cells/uL'}]; w('v05_single_cd4',d3)
d4=copy.deepcopy(d); d4['hiv']['retinitis']={'zone':2}; d4['observations'][2]['value']=150; w('v06_activity_unknown',d4)
d5=copy.deepcopy(d); d5['observations'][2]['value']=150; d5['hiv']['on_art']=False; w('v07_not_on_art',d5)
# induction ongoing day 10
d6=hv(); d6['assessed_on']='2026-03-20'; d6['therapy']=[{'drug':'valganciclovir','dose_mg':900,'every_h':12,'route':'oral','start':'2026-03-10','indication':'induction'}]; d6['observations']=[{'date':'2026-03-19','code':'creatinine','value':0.9,'unit':'mg/dL'},{'date':'2026-03-09','code':'cd4','value':30,'unit':'cells/uL'}]; w('v08_induction_day10',d6)
# induction completed, day 25, still on 900 BID
d7=copy.deepcopy(d6); d7['assessed_on']='2026-04-05'; d7['observations'][0]['date']='2026-04-04'; w('v09_induction_overrun',d7)
# cd4 400, no retinitis
d8=hv(); d8['hiv']={'on_art':True}; d8['observations'][1]['value']=400; w('v10_noretinitis',d8)
# immunocompetent severe
d9=dict(format='cmvcds-case/1', id='i', assessed_on='2026-04-02', context='immunocompetent', patient=dict(sex='female',age_years=30,weight_kg=60,height_cm=165),
   presentation=dict(disease='tissue_invasive',organs=['encephalitis'],severity='severe'), observations=[{'date':'2026-04-01','code':'creatinine','value':0.7,'unit':'mg/dL'}])
w('i01_enceph',d9)
d10=dict(format='cmvcds-case/1', id='i2', assessed_on='2026-04-02', context='immunocompromised', patient=dict(sex='male',age_years=52,weight_kg=75,height_cm=176),
   presentation=dict(disease='tissue_invasive',organs=['gastrointestinal'],severity='moderate'), observations=[{'date':'2026-04-01','code':'creatinine','value':1.0,'unit':'mg/dL'}])
w('i02_colitis_oral_unknown',d10)
d11=copy.deepcopy(d10); d11['presentation']={'disease':'asymptomatic_dnaemia'}; d11['observations'].append({'date':'2026-04-01','code':'cmv_dna','specimen':'plasma','value':50000,'unit':'IU/mL'}); w('i03_dnaemia',d11)
d12=copy.deepcopy(d10); d12['patient']['icu']=True; d12['presentation']={'disease':'asymptomatic_dnaemia'}; w('i04_icu',d12)
d13=copy.deepcopy(d10); d13['presentation']['severity']='life_threatening'; d13['patient']['can_take_oral']=True; w('i05_colitis_lifethreat',d13)
