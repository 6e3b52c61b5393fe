module smuxinterop

go 1.19

require github.com/xtaci/smux v1.5.16
