"""Hypothesis strategies for valid organisation profiles (shared by property tests)."""

from __future__ import annotations

import datetime as dt

from hypothesis import strategies as st

VERSIONS = ("2007", "2010", "2013", "2016", "2019", "SE")
DOMAINS = ("contoso.com", "fabrikam.net", "woodgrove.co.uk", "northwind.de", "tailspin.io")
INTERNAL = ("", "contoso.local", "corp.contoso.com", "ad.lan", "fabrikam.internal")
CAS = ("cheapest", "sectigo", "digicert", "letsencrypt", "zerossl", "globalsign", "godaddy", "sslcom",
       "entrust", "buypass", "google")


@st.composite
def profiles(draw: st.DrawFn) -> dict:
    """A valid profile mapping with realistic ranges."""
    domain = draw(st.sampled_from(DOMAINS))
    users = draw(st.integers(0, 5000))
    extra = draw(st.lists(st.sampled_from([d for d in DOMAINS if d != domain]), max_size=3, unique=True))
    return {
        "org": "Org " + domain,
        "exchange_version": draw(st.sampled_from(VERSIONS)),
        "start": draw(st.dates(dt.date(2005, 1, 1), dt.date(2032, 12, 31))).isoformat(),
        "horizon_years": draw(st.sampled_from([0.25, 0.5, 1, 2, 3, 4.5, 5, 7, 10])),
        "external_domain": domain,
        "extra_domains": extra,
        "internal_domain": draw(st.sampled_from(INTERNAL)),
        "servers": draw(st.lists(st.sampled_from(["EX01", "EX02", "SERVER01", "MAIL"]), max_size=3, unique=True)),
        "owa_host": draw(st.sampled_from([f"mail.{domain}", f"autodiscover.{domain}", f"owa.{domain}"])),
        "internal_names": draw(st.booleans()),
        "root_on_exchange": draw(st.booleans()),
        "split_dns": draw(st.booleans()),
        "users": users,
        "desktops": draw(st.integers(0, 6000)),
        "domain_joined_share": draw(st.floats(0, 1)),
        "mobile_devices": draw(st.integers(0, 6000)),
        "mdm_share": draw(st.floats(0, 1)),
        "partner_tls": draw(st.booleans()),
        "internal_ca": draw(st.booleans()),
        "acme_ok": draw(st.booleans()),
        "dns_api": draw(st.booleans()),
        "spare_ip": draw(st.booleans()),
        "ca": draw(st.sampled_from(CAS)),
        "admin_rate": draw(st.floats(0, 300)),
        "user_rate": draw(st.floats(0, 200)),
        "weights": {
            "cost": draw(st.floats(0.01, 1)),
            "trust": draw(st.floats(0, 1)),
            "reconfiguration": draw(st.floats(0, 1)),
            "url_change": draw(st.floats(0, 1)),
        },
    }


@st.composite
def colliding_profiles(draw: st.DrawFn) -> dict:
    """A profile whose internal names tend to be its public names too: the AD domain a mail domain (split-brain DNS),
    autodiscover.<domain> or the external domain's parent where it has two labels (co.uk: the server 'woodgrove' is
    then woodgrove.co.uk), servers named as the OWA host's first label, 'autodiscover' or the external domain's first
    label."""
    profile = draw(profiles())
    domain, extra = profile["external_domain"], profile["extra_domains"]
    label, parent = domain.split(".", 1)
    owa = draw(st.sampled_from(["mail", "owa", "autodiscover", ""]))
    owa_domain = draw(st.sampled_from([domain, *extra]))
    profile["owa_host"] = f"{owa}.{owa_domain}" if owa else owa_domain
    parents = [parent] if "." in parent else []
    profile["internal_domain"] = draw(st.sampled_from([domain, *extra, *parents, f"autodiscover.{domain}",
                                                       "contoso.local", ""]))
    profile["servers"] = draw(st.lists(st.sampled_from(["mail", "owa", "autodiscover", label, "ex01"]), max_size=3,
                                       unique=True))
    profile["internal_names"] = draw(st.booleans()) or draw(st.booleans())  # three in four
    return profile
