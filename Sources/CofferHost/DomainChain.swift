import CofferDomain
import CofferStore
import CofferWire

/// The domain's history as a host trusts it: the tokens in its store and those given, verified as one
/// chain from the pinned genesis digest (PROTOCOL §5); the given ones are stored, so the next start (and
/// every host of the store) needs none.
public enum DomainChain {
    /// The verified newest state of the chain of stored and `given` tokens from `genesis`.
    public static func verifiedState(
        store: any KeyStore, genesis: [UInt8], given: [DomainToken] = []
    ) async throws(HostError) -> DomainState {
        var byEpoch: [Int64: DomainToken] = [:]
        let stored: [(epoch: Int64, der: [UInt8])]
        do {
            stored = try await store.domainTokens()
        } catch {
            throw HostError(.store, "cannot read the store's domain tokens: \(error)")
        }
        for token in stored {
            do {
                byEpoch[token.epoch] = try DomainToken(derEncoded: token.der)
            } catch {
                throw HostError(.domainChain, "the store's domain token of epoch \(token.epoch) does not parse")
            }
        }
        for token in given { byEpoch[token.state.epoch] = token }
        let chain = byEpoch.keys.sorted().compactMap { byEpoch[$0] }
        guard !chain.isEmpty else {
            throw HostError(.domainChain, "no domain tokens: give the chain with --token, genesis first")
        }
        let states: [DomainState]
        do {
            states = try TokenVerifier.verifyChain(chain, genesisDigest: genesis)
        } catch {
            throw HostError(
                .domainChain,
                "the domain's tokens do not verify from the pinned genesis: \(error.code): \(error.message)")
        }
        let epochs = Set(stored.map(\.epoch))
        for token in chain where !epochs.contains(token.state.epoch) {
            do {
                try await store.appendDomainToken(epoch: token.state.epoch, der: token.derBytes)
            } catch  where error.code == .alreadyExists {
                continue  // another host stored it meanwhile
            } catch {
                throw HostError(.store, "cannot store the domain token of epoch \(token.state.epoch): \(error)")
            }
        }
        guard let last = states.last else { throw HostError(.domainChain, "no state") }
        return last
    }
}
