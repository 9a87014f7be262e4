module layerlab/authz

go 1.24
