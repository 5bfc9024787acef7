"""Hidden tests of hw_svhn: the FSVAE's bound, the flow prior's masks and log-density, the
discretized logistic mixture and the WGAN-LP's objectives."""
