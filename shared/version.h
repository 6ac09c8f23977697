/* The release every gridcal program reports with --version. */
#ifndef GRIDCAL_VERSION_H
#define GRIDCAL_VERSION_H

#ifndef GRIDCAL_VERSION
#define GRIDCAL_VERSION	"0.9.0"
#endif

#endif
