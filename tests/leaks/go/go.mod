module leakcauses

go 1.19
