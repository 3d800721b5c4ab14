import subprocess, json, sys, glob, os
for p in sorted(glob.glob(sys.argv[1])):
    n=os.path.basename(p)[:-5]
    r=subprocess.run(['/work/main/.venv/bin/cmvcds','assess',os.path.abspath(p),'--settings','/work/main/examples/settings.yaml','--format','json'],capture_output=True,text=True,cwd='/work/main')
    open(f'/tmp/review/out/{n}.json','w').write(r.stdout+r.stderr)
    print(f'== {n} rc={r.returncode}')
    try: j=json.loads(r.stdout)
    except Exception: print('  ', (r.stdout+r.stderr)[-600:]); continue
    f=j.get('findings',{})
    mi=f.get('maternal_infection',{})
    if mi: print('   MI:',{k:mi.get(k) for k in ('status','criterion','onset_window','timing')})
    if 'renal' in f: print('   renal:',f['renal'])
    if 'gestational_age' in f: print('   GA:',f['gestational_age'])
    for d in j['decisions']: print('   D',d['id'],d['outcome'],'|',' / '.join(d.get('reasons',[]))[:400], '' if d.get('citations') else 'NO-CITATION')
    for rg in j['regimens']: print('   R',rg['drug'],rg.get('dose_mg'),rg.get('every_h'),rg.get('indication'),rg.get('start'),'->',rg.get('stop'),'|',rg.get('stop_rule'))
    for s in j['schedule']:
        if s['event'] in ('amniocentesis','stop-valacyclovir','genotype'): print('   S',s['event'],s['earliest'],s.get('latest'),s.get('reason','')[:200])
    for a in j['alerts']:
        if a['code']!='unverified-fact' or 'verbose' in sys.argv: print('   A',a['severity'],a['code'],a['message'][:300])
    for m in j['missing']: print('   M',m)
