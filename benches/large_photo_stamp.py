import subprocess, time, sys, selectors
exe, out = sys.argv[1], sys.argv[2]
t0=time.time()
p=subprocess.Popen([exe,'edit','--backend','local','--image','big.jpg','--mask','mask.png','--prompt','a sign that says "OPEN"','--seed','7','--out',out],stderr=subprocess.PIPE,stdout=subprocess.PIPE,text=True)
sel=selectors.DefaultSelector(); sel.register(p.stderr, selectors.EVENT_READ); sel.register(p.stdout, selectors.EVENT_READ)
n=2; first=None
while n:
    for k,_ in sel.select():
        line=k.fileobj.readline()
        if not line: sel.unregister(k.fileobj); n-=1; continue
        if k.fileobj is p.stdout and first is None: first=time.time()-t0
p.wait()
print(f"{exe}: first result {first:.2f} s, all {time.time()-t0:.2f} s")
