exec(open('/tmp/review/gen.py').read())
def base(**kw):
    d=copy.deepcopy(BASE)
    d['observations']=[
      {'date':'2026-02-20','code':'cmv_igg','result':'positive'},
      {'date':'2026-02-20','code':'cmv_igm','result':'positive'},
      {'date':'2026-02-20','code':'cmv_igg_avidity','result':'low'},
      {'date':'2026-02-20','code':'creatinine','value':0.62,'unit':'mg/dL'},
      {'date':'2026-02-20','code':'egfr','value':118,'unit':'mL/min/1.73m2'}]
    return d
def sero(d, date, avid='low', igg_prev=None):
    obs=[{'date':date,'code':'cmv_igg','result':'positive'},{'date':date,'code':'cmv_igm','result':'positive'}]
    if avid: obs.append({'date':date,'code':'cmv_igg_avidity','result':avid})
    if igg_prev: obs.insert(0,{'date':igg_prev,'code':'cmv_igg','result':'negative'})
    obs+= [{'date':date,'code':'creatinine','value':0.62,'unit':'mg/dL'},{'date':date,'code':'egfr','value':118,'unit':'mL/min/1.73m2'}]
    d['observations']=obs; return d
# onset 23+6 vs 24+0 via symptom_onset
for n,on in [('p01_onset_23p6','2026-06-05'),('p02_onset_24p0','2026-06-06')]:
    d=sero(base(),'2026-06-10'); d['assessed_on']='2026-06-12'; d['pregnancy']['symptom_onset']=on; w(n,d)
# first positive sample at 23+6 vs 24+0 (no symptom onset)
for n,on in [('p01b_firstpos_23p6','2026-06-05'),('p02b_firstpos_24p0','2026-06-06')]:
    d=sero(base(),on); d['assessed_on']='2026-06-08'; w(n,d)
# straddle: neg 22+6 (05-30), pos 24+6 (06-12)
d=sero(base(),'2026-06-12',igg_prev='2026-05-30'); d['assessed_on']='2026-06-13'; w('p03_straddle',d)
# seroconversion fully after 24+0
d=sero(base(),'2026-06-20',igg_prev='2026-06-07'); d['assessed_on']='2026-06-21'; w('p03b_sero_after24',d)
# no avidity
d=sero(base(),'2026-02-20',avid=None); w('p04_noavidity',d)
# intermediate no DNA
d=sero(base(),'2026-02-20',avid='intermediate'); w('p05_interm_nodna',d)
d=sero(base(),'2026-02-20',avid='intermediate'); d['observations'].append({'date':'2026-02-22','code':'cmv_dna','specimen':'urine','result':'detected'}); w('p06_interm_urine',d)
d=sero(base(),'2026-02-20',avid='intermediate'); d['observations'].append({'date':'2026-02-22','code':'cmv_dna','specimen':'plasma','result':'detected'}); w('p06b_interm_plasma',d)
d=sero(base(),'2026-02-20',avid='intermediate'); d['observations'].append({'date':'2026-02-22','code':'cmv_dna','specimen':'urine','result':'not_detected'}); w('p06c_interm_urine_neg',d)
d=sero(base(),'2026-02-20',avid='intermediate'); d['observations'].append({'date':'2026-02-22','code':'cmv_dna','specimen':'urine','result':'detected_below_lloq'}); w('p06d_interm_urine_lloq',d)
# creatinine
for n,v,u in [('p07a_cr1.1',1.1,'mg/dL'),('p07b_cr1.11',1.11,'mg/dL'),('p07c_cr97umol',97,'umol/L'),('p07d_cr98umol',98,'umol/L'),('p07e_cr97.3umol',97.3,'umol/L'),('p07f_cr40',40,'mg/dL'),('p07g_cr0',0,'mg/dL'),('p07h_crneg',-1,'mg/dL'),('p07i_cr_badunit',1.0,'mmol/L')]:
    d=base(); d['observations'][3]={'date':'2026-02-20','code':'creatinine','value':v,'unit':u}; d['observations'].pop(4); w(n,d)
for n,v in [('p08a_egfr90',90),('p08b_egfr89',89),('p08c_egfr89.99',89.99),('p08d_egfr_ml_min',90)]:
    d=base(); d['observations'][4]['value']=v
    if n=='p08d_egfr_ml_min': d['observations'][4]['unit']='mL/min'
    w(n,d)
# no renal data at all
d=base(); d['observations']=d['observations'][:3]; w('p09_norenal',d)
# declined amnio
d=base(); d['pregnancy']['amniocentesis_declined']=True; w('p10_declined',d)
# booked 19+6 (2026-05-08) and 20+1
d=base(); d['pregnancy']['amniocentesis_booked']='2026-05-08'; w('p11_booked_19p6',d)
d=base(); d['pregnancy']['amniocentesis_booked']='2026-05-10'; w('p11b_booked_20p1',d)
# booked at 20+3 but < 8 weeks after onset: seroconv pos 2026-04-10
d=sero(base(),'2026-04-10',igg_prev='2026-03-01'); d['assessed_on']='2026-04-12'; d['pregnancy']['amniocentesis_booked']='2026-05-12'; w('p11c_booked_lt8wk',d)
# negative amnio reported
d=base(); d['assessed_on']='2026-05-25'; d['observations'].append({'date':'2026-05-12','code':'cmv_dna','specimen':'amniotic_fluid','result':'not_detected','reported':'2026-05-19'})
d['therapy']=[{'drug':'valacyclovir','dose_mg':2000,'every_h':6,'route':'oral','start':'2026-03-02','stop':None}]; w('p12_amnio_neg',d)
# negative amnio but done too early (19+6)
d=base(); d['assessed_on']='2026-05-25'; d['observations'].append({'date':'2026-05-08','code':'cmv_dna','specimen':'amniotic_fluid','result':'not_detected','reported':'2026-05-15'})
d['therapy']=[{'drug':'valacyclovir','dose_mg':2000,'every_h':6,'route':'oral','start':'2026-03-02','stop':None}]; w('p12b_amnio_neg_early',d)
# positive amnio with VM
def pos(d, us, extra=[]):
    d['assessed_on']='2026-05-20'
    d['observations'].append({'date':'2026-05-12','code':'cmv_dna','specimen':'amniotic_fluid','result':'detected','reported':'2026-05-19'})
    d['observations']+=extra
    d['ultrasound']=us
    d['therapy']=[{'drug':'valacyclovir','dose_mg':2000,'every_h':6,'route':'oral','start':'2026-03-02','stop':'2026-05-19'}]
    return d
w('p13a_vm14.9', pos(base(), [{'date':'2026-05-19','findings':['ventriculomegaly'],'ventricle_mm':14.9}]))
w('p13b_vm15.0', pos(base(), [{'date':'2026-05-19','findings':['ventriculomegaly'],'ventricle_mm':15.0}]))
w('p13c_vm_nomm', pos(base(), [{'date':'2026-05-19','findings':['ventriculomegaly']}]))
w('p13d_nosigns', pos(base(), [{'date':'2026-05-19','findings':[]}]))
w('p13e_nous', pos(base(), []))
w('p13f_bowel1', pos(base(), [{'date':'2026-05-19','findings':['hyperechogenic_bowel'],'bowel_grade':1}]))
w('p13g_bowel_nograde', pos(base(), [{'date':'2026-05-19','findings':['hyperechogenic_bowel']}]))
w('p13h_placenta40', pos(base(), [{'date':'2026-05-19','findings':['placentomegaly'],'placenta_mm':40}]))
w('p13i_placenta41', pos(base(), [{'date':'2026-05-19','findings':['placentomegaly'],'placenta_mm':41}]))
w('p13j_vm_plus_calc', pos(base(), [{'date':'2026-05-19','findings':['ventriculomegaly','hepatomegaly'],'ventricle_mm':16}]))
for n,v in [('p14a_plt100000',100000),('p14b_plt99999',99999)]:
    w(n, pos(base(), [{'date':'2026-05-19','findings':[]}], [{'date':'2026-05-18','code':'platelets','specimen':'fetal_blood','value':v,'unit':'/mm3'}]))
for n,v in [('p14c_fvl3000',3000),('p14d_fvl3001',3001)]:
    w(n, pos(base(), [{'date':'2026-05-19','findings':[]}], [{'date':'2026-05-18','code':'cmv_dna','specimen':'fetal_blood','value':v,'unit':'copies/mL'}]))
# twins discordant
d=base(); d['pregnancy']['fetuses']=2; d['assessed_on']='2026-05-20'
d['observations']+= [{'date':'2026-05-12','code':'cmv_dna','specimen':'amniotic_fluid','result':'detected','reported':'2026-05-19','fetus':1},
                     {'date':'2026-05-12','code':'cmv_dna','specimen':'amniotic_fluid','result':'not_detected','reported':'2026-05-19','fetus':2}]
d['ultrasound']=[{'date':'2026-05-19','findings':['hepatomegaly'],'fetus':1},{'date':'2026-05-19','findings':[],'fetus':2}]
d['therapy']=[{'drug':'valacyclovir','dose_mg':2000,'every_h':6,'route':'oral','start':'2026-03-02','stop':None}]
w('p15_twins_discordant',d)
d2=copy.deepcopy(d); d2['ultrasound']=[{'date':'2026-05-19','findings':[],'fetus':1},{'date':'2026-05-19','findings':[],'fetus':2}]; w('p15b_twins_pos_nosigns',d2)
d3=copy.deepcopy(d); 
for o in d3['observations']: o.pop('fetus',None)
w('p15c_twins_nofetus_tag',d3)
# implausible
d=base(); d['pregnancy']['lmp']='2025-01-01'; w('p16_ga60',d)
d=base(); d['observations'].append({'date':'2026-04-01','code':'cmv_dna','specimen':'urine','result':'detected'}); w('p17_future_obs',d)
d=base(); d['patient']['weight_kg']=0; w('p18_weight0',d)
d=base(); d['patient']['birth_date']='2016-01-01'; w('p19_age10',d)
d=base(); d['patient']['birth_date']='2014-03-03'; w('p19b_age11y364',d)
d=base(); d['patient']['sex']='male'; w('p20_male_preg',d)
d=base(); d['assessed_on']='2030-01-01'; w('p21_assessed_postdelivery',d)
d=base(); d['pregnancy']['fetuses']=0; w('p22_fetuses0',d)
# contradictory: IgG negative and positive same date
d=base(); d['observations'].append({'date':'2026-02-20','code':'cmv_igg','result':'negative'}); w('p23_contradict_igg',d)
# IgG positive before negative (reverse seroconversion)
d=sero(base(),'2026-01-10'); d['observations'].append({'date':'2026-02-20','code':'cmv_igg','result':'negative'}); w('p24_reverse_sero',d)
# preconceptional: pos IgG+IgM+low avidity very early (3+0)  -> first positive at 3+0 -> onset maybe preconceptional
d=sero(base(),'2025-12-30'); d['assessed_on']='2026-01-05'; w('p25_earlypos',d)
# seroconversion preconceptional: neg 2025-09-01, pos 2026-01-10
d=sero(base(),'2026-01-10',igg_prev='2025-09-01'); d['assessed_on']='2026-01-12'; w('p26_sero_preconc',d)
# already on valacyclovir 1 g q8h (wrong dose)
d=base(); d['therapy']=[{'drug':'valacyclovir','dose_mg':1000,'every_h':8,'route':'oral','start':'2026-02-25','stop':None}]; w('p27_wrongdose',d)
# assessed after 26+0 without amnio, on therapy
d=base(); d['assessed_on']='2026-06-25'; d['therapy']=[{'drug':'valacyclovir','dose_mg':2000,'every_h':6,'route':'oral','start':'2026-03-02','stop':None}]; w('p28_after26',d)
# diagnosis at 25 weeks, IgG+IgM+ low avidity, no earlier serology
d=sero(base(),'2026-06-15'); d['assessed_on']='2026-06-16'; w('p29_diag25w',d)
# stale creatinine (a year old)
d=base(); d['observations'][3]['date']='2025-01-10'; d['observations'][4]['date']='2025-01-10'; w('p30_stale_cr',d)
