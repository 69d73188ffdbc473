#!/usr/bin/env python3
# The npm registry reachable here serves only some platform builds of optional native packages
# (e.g. @unrs/resolver-binding-*, used by jest 30). `npm install` then writes no lock entry for the
# others and `npm ci` refuses the lock. This adds the missing optional entries (version, os, cpu) so
# `npm ci` skips them by platform. Run after any `npm install`: python3 scripts/lockfile-add-missing-optional.py package-lock.json
import json,re,sys
p=sys.argv[1]
d=json.load(open(p))
pk=d['packages']
added=[]
for key,val in list(pk.items()):
    for dep,ver in (val.get('optionalDependencies') or {}).items():
        base = key + '/node_modules/' + dep if key else 'node_modules/' + dep
        top = 'node_modules/' + dep
        if base in pk or top in pk: continue
        name=dep.split('/')[-1]
        osmap={'android':'android','darwin':'darwin','freebsd':'freebsd','linux':'linux','win32':'win32','openharmony':'openharmony','wasm32':None}
        m=re.search(r'(android|darwin|freebsd|linux|win32|openharmony|wasm32)-([a-z0-9]+)',name)
        entry={'version':ver,'dev':val.get('dev',False),'optional':True}
        if m and m.group(1)!='wasm32':
            entry['cpu']=[m.group(2).replace('arm64','arm64')]; entry['os']=[m.group(1)]
            if 'musl' in name: entry['libc']=['musl']
            elif 'gnu' in name: entry['libc']=['glibc']
        elif m: entry['cpu']=['wasm32']
        if not entry['dev']: del entry['dev']
        pk[top]=entry; added.append((top, entry.get('os'), entry.get('cpu')))
d['packages']=dict(sorted(pk.items(), key=lambda kv: (kv[0]!='', kv[0])))
json.dump(d,open(p,'w'),indent=2); open(p,'a').write('\n')
for a in added: print(a)
