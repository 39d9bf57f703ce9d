//! The visitor's real address (HD-10): the socket peer, or — only when the peer is one of the
//! configured trusted proxies — the right-most `X-Forwarded-For` entry that is not itself a
//! trusted proxy. From anyone else the header is ignored, since any client can write it.
//!
//! The monitor computes the address once per request and leaves a [`ClientAddr`] in the request
//! extensions; handlers take it as an extractor.

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use axum::extract::{ConnectInfo, FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{Extensions, HeaderMap};

use crate::SiteState;

/// A network such as `10.0.0.0/8` or `2001:db8::/32`; a bare address is a single host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl FromStr for Cidr {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let network: IpAddr = addr.parse().map_err(|_| format!("{s:?} is not an address or network"))?;
        let network = network.to_canonical();
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(|| format!("{s:?}: bad prefix length"))?,
            None => max,
        };
        Ok(Cidr { network, prefix })
    }
}

impl Cidr {
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix)).unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// The reverse proxies (load balancer, CDN, nginx) whose `X-Forwarded-For` is believed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<Cidr>);

impl TrustedProxies {
    /// Parses `["127.0.0.1/32", "10.0.0.0/8"]`; the error names the bad entry.
    pub fn parse<S: AsRef<str>>(list: &[S]) -> Result<Self, String> {
        list.iter().map(|s| s.as_ref().parse()).collect::<Result<Vec<Cidr>, _>>().map(TrustedProxies)
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|c| c.contains(ip))
    }

    /// The client behind `peer`: walks `X-Forwarded-For` from the right while the hop is
    /// trusted. An unreadable entry ends the walk at the last trusted hop, because whatever is
    /// left of it was written by someone we do not trust.
    pub fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let mut current = peer.to_canonical();
        if !self.contains(current) {
            return current;
        }
        let hops: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        for hop in hops.iter().rev() {
            let Some(ip) = parse_hop(hop) else { return current };
            current = ip;
            if !self.contains(current) {
                return current;
            }
        }
        current
    }
}

/// `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1` or `[2001:db8::1]:443`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>().ok().or_else(|| hop.parse::<SocketAddr>().ok().map(|s| s.ip())).map(|ip| ip.to_canonical())
}

/// The client's address; `None` only when the server was started without connection info
/// (in-process calls such as the benchmarks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub Option<IpAddr>);

impl ClientAddr {
    /// From the monitor's extension when present, else computed from the peer and the proxies.
    pub fn from_request(extensions: &Extensions, headers: &HeaderMap, proxies: &TrustedProxies) -> Self {
        if let Some(known) = extensions.get::<ClientAddr>() {
            return *known;
        }
        let peer = extensions.get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(a)| a.ip());
        ClientAddr(peer.map(|p| proxies.client_ip(p, headers)))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr
where
    SiteState: FromRef<S>,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = SiteState::from_ref(state);
        Ok(ClientAddr::from_request(&parts.extensions, &parts.headers, &state.proxies))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(trusted: &[&str], peer: &str, forwarded: Option<&str>, expected: &str) {
        let proxies = TrustedProxies::parse(trusted).expect("proxies");
        let mut headers = HeaderMap::new();
        if let Some(f) = forwarded {
            headers.insert("x-forwarded-for", f.parse().expect("header"));
        }
        let got = proxies.client_ip(peer.parse().expect("peer"), &headers);
        assert_eq!(got.to_string(), expected, "trusted {trusted:?}, peer {peer}, header {forwarded:?}");
    }

    #[test]
    fn hd10_untrusted_peer_with_spoofed_header_is_the_peer() {
        check(&[], "203.0.113.5", Some("1.2.3.4"), "203.0.113.5");
        check(&["10.0.0.0/8"], "203.0.113.5", Some("1.2.3.4, 10.0.0.1"), "203.0.113.5");
        check(&["127.0.0.1/32"], "127.0.0.2", Some("1.2.3.4"), "127.0.0.2");
    }

    #[test]
    fn hd10_trusted_chain_gives_the_rightmost_untrusted_address() {
        let trusted = ["127.0.0.1/32", "10.0.0.0/8"];
        check(&trusted, "127.0.0.1", Some("198.51.100.7"), "198.51.100.7");
        // The client wrote a fake first entry; the proxies appended the real one and their own.
        check(&trusted, "127.0.0.1", Some("6.6.6.6, 198.51.100.7, 10.1.2.3"), "198.51.100.7");
        check(&trusted, "10.9.9.9", Some("2001:db8::1, 10.0.0.5:8080"), "2001:db8::1");
        check(&trusted, "::ffff:127.0.0.1", Some("[2001:db8::2]:443"), "2001:db8::2");
        // Only proxies in the chain: the left-most is as close to the client as we get.
        check(&trusted, "127.0.0.1", Some("10.0.0.7, 10.0.0.8"), "10.0.0.7");
        // Garbage stops the walk at the last trusted hop.
        check(&trusted, "127.0.0.1", Some("198.51.100.7, not-an-ip"), "127.0.0.1");
        check(&trusted, "127.0.0.1", None, "127.0.0.1");
    }

    #[test]
    fn hd10_multiple_header_lines_are_one_list() {
        let proxies = TrustedProxies::parse(&["127.0.0.1"]).expect("proxies");
        let mut headers = HeaderMap::new();
        headers.append("x-forwarded-for", "6.6.6.6".parse().expect("header"));
        headers.append("x-forwarded-for", "198.51.100.9".parse().expect("header"));
        assert_eq!(proxies.client_ip("127.0.0.1".parse().expect("ip"), &headers).to_string(), "198.51.100.9");
    }

    #[test]
    fn cidr_parsing_refuses_bad_entries() {
        assert!(TrustedProxies::parse(&["10.0.0.0/33"]).is_err());
        assert!(TrustedProxies::parse(&["example.com"]).is_err());
        let c: Cidr = "192.168.0.0/16".parse().expect("cidr");
        assert!(c.contains("192.168.255.1".parse().expect("ip")) && !c.contains("192.169.0.1".parse().expect("ip")));
        let all: Cidr = "0.0.0.0/0".parse().expect("cidr");
        assert!(all.contains("8.8.8.8".parse().expect("ip")));
    }
}
