module leaksbench

go 1.19
