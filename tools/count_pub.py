#!/usr/bin/env python3
"""Counts the public items reachable from a crate root in rustdoc's JSON output: modules'
items (following re-exports), with struct fields, enum variants, trait items and inherent
methods and associated constants. Each item counts once however many paths reach it.
Usage: count_pub.py target/doc/<crate>.json [--list]"""
import json, sys, collections
d = json.load(open(sys.argv[1]))
index = d['index']
seen = set()
counts = collections.Counter()
names = []

def kind(item):
    return next(iter(item['inner'].keys()))

def visit(iid, path):
    iid = str(iid)
    if iid in seen or iid not in index:
        return
    seen.add(iid)
    item = index[iid]
    k = kind(item)
    inner = item['inner'][k]
    name = item.get('name') or ''
    if k == 'use':
        tid = inner.get('id')
        if tid is not None:
            seen.discard(iid)  # a re-export is not an item of its own
            visit(tid, path)
        return
    if k == 'module':
        if path:  # the root module itself is not counted
            counts['module'] += 1; names.append(('module', path + name))
        for child in inner['items']:
            visit(child, path + name + '::' if path or name else '')
        return
    counts[k] += 1
    names.append((k, path + name))
    if k == 'struct':
        kinds = inner.get('kind', {})
        fields = []
        if isinstance(kinds, dict):
            if 'plain' in kinds: fields = kinds['plain'].get('fields', [])
            elif 'tuple' in kinds: fields = [f for f in kinds['tuple'] if f is not None]
        for f in fields:
            fi = index.get(str(f))
            if fi and fi.get('visibility') == 'public':
                counts['field'] += 1; names.append(('field', path + name + '.' + (fi.get('name') or '?')))
        impls(inner, path + name)
    elif k == 'enum':
        for v in inner.get('variants', []):
            vi = index.get(str(v))
            if vi:
                counts['variant'] += 1; names.append(('variant', path + name + '::' + vi['name']))
                vk = vi['inner']['variant'].get('kind', {})
                if isinstance(vk, dict) and 'struct' in vk:
                    for f in vk['struct'].get('fields', []):
                        counts['field'] += 1; names.append(('field', path + name + '::' + vi['name'] + '.' + (index.get(str(f), {}).get('name') or '?')))
                elif isinstance(vk, dict) and 'tuple' in vk:
                    for f in vk['tuple']:
                        if f is not None:
                            counts['field'] += 1; names.append(('field', path + name + '::' + vi['name'] + '.0'))
        impls(inner, path + name)
    elif k == 'trait':
        for t in inner.get('items', []):
            ti = index.get(str(t))
            if ti:
                counts['trait item'] += 1; names.append(('trait item', path + name + '::' + ti['name']))

def impls(inner, owner):
    for i in inner.get('impls', []):
        ii = index.get(str(i))
        if not ii: continue
        imp = ii['inner']['impl']
        if imp.get('trait') is not None or imp.get('synthetic') or imp.get('blanket_impl'):
            continue
        for m in imp.get('items', []):
            mi = index.get(str(m))
            if mi and mi.get('visibility') == 'public':
                mk = kind(mi)
                counts['method' if mk == 'function' else 'assoc ' + mk] += 1
                names.append(('method', owner + '::' + mi['name']))

visit(d['root'], '')
total = sum(counts.values())
if '--list' in sys.argv:
    for k, n in sorted(names, key=lambda x: x[1]): print(f'{k:12} {n}')
print(dict(counts))
print('total', total)
