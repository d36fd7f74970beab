import CofferCrypto
import CofferDomain
import CofferHSMClient
import CofferStore
import CofferWire
import Crypto
import Foundation

/// How `coffer dev` brings its domain back after a restart: by the recovery of docs/recovery.md, with a
/// recovery kit whose custodians' keys and shares it keeps in its data directory (dev mode only: in
/// production each custodian keeps their own key offline). A restarted dev HSM is a new HSM, as a
/// production one is; it recovers the domain as the one online member of the next epoch.
enum DevRecovery {
    /// Threshold and custodians of the dev kit.
    static let threshold = 2
    static let custodians = 3

    /// Gives the dev domain what a recovery needs, if it lacks it: the dev rule for `domain.recover` (a
    /// domain made by an older Coffer has none) and a recovery member whose kit is written to the data
    /// directory. Returns the state afterwards.
    static func ensureKit(
        _ connection: HSMConnection, state: DomainState, operators: [(String, P384.Signing.PrivateKey)],
        store: SQLKeyStore, files: DevFiles
    ) async throws -> DomainState {
        var state = state
        if !state.rules.contains(where: { $0.command == DomainCommand.recover }) {
            let rules = state.rules.filter { !Dev.rules.map(\.command).contains($0.command) } + Dev.rules
            state = try await execute(
                .modifyRules(rules.sortedByUTF8(\.command)), on: state, connection, operators, store)
        }
        if files.hasKit, state.members.contains(where: { $0.kind == .recovery }) { return state }
        var random = SystemRandom()
        let keys = try (1...custodians).map { try files.custodianKey($0) }
        let kit = try RecoveryKit.create(
            custodians: keys.map { P384PublicKey($0.publicKey) }, threshold: threshold, random: &random)
        // The shares are on disk before the state names their member: a crash in between leaves a kit that no
        // state uses (made anew on the next start), never a recovery member without its shares.
        try FileManager.default.createDirectory(
            atPath: files.recovery, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        for share in kit.shares {
            try CLIFiles.write(share.derBytes, to: files.share(share.header.x))
        }
        let stale = state.members.filter { $0.kind == .recovery }.map(\.hsmID)
        state = try await execute(
            .modifyMembers(add: [kit.member], remove: stale.sortedByUTF8 { $0 }), on: state, connection, operators,
            store)
        return state
    }

    /// Recovers the domain of `last` on the HSM behind `connection`: two dev custodians reseal their
    /// shares to it (after it answers a fresh challenge), two dev operators sign `domain.recover`, and the
    /// request carries the newest token as its anchor (dev mode verified the whole stored chain from the
    /// genesis before, so the request stays one token long however long the chain grows).
    static func recover(
        _ connection: HSMConnection, last: DomainToken, operators: [(String, P384.Signing.PrivateKey)],
        store: SQLKeyStore, files: DevFiles
    ) async throws -> DomainState {
        var random = SystemRandom()
        let challenge = random.bytes(count: WireLimits.challengeLength)
        guard case .identity(let identity) = try await connection.request(.identify(challenge: challenge)),
            identity.identity.challenge == challenge
        else { throw CLIError("the dev HSM did not identify itself") }
        let arguments = CommandArguments.recover(DomainRecover(anchor: last.state.digest, member: identity))
        let signed = try sign(arguments, base: last.state, operators)
        var shares: [SealedShare] = []
        for x in 1...threshold {
            let share = try CLIFiles.decode(SealedShare.self, from: files.share(x))
            shares.append(
                try RecoveryShares.reseal(
                    share, custodian: try files.custodianKey(x), command: signed, state: last.state, now: Clock.now,
                    random: &random))
        }
        let request = RecoverRequest(command: signed, chain: [last], shares: shares)
        switch try await connection.request(.recover(request)) {
        case .token(let token):
            try TokenVerifier.verifySuccessor(token, of: last.state)
            try await store.appendDomainToken(epoch: token.state.epoch, der: token.derBytes)
            return token.state
        case .failure(let failure):
            throw CLIError("the dev HSM refused domain.recover: \(failure.code): \(failure.message)")
        default:
            throw CLIError("the dev HSM answered domain.recover with another kind")
        }
    }

    private static func execute(
        _ arguments: CommandArguments, on state: DomainState, _ connection: HSMConnection,
        _ operators: [(String, P384.Signing.PrivateKey)], _ store: SQLKeyStore
    ) async throws -> DomainState {
        let token = try await Dev.submit(try sign(arguments, base: state, operators), connection)
        try await store.appendDomainToken(epoch: token.state.epoch, der: token.derBytes)
        return token.state
    }

    private static func sign(
        _ arguments: CommandArguments, base: DomainState, _ operators: [(String, P384.Signing.PrivateKey)]
    ) throws -> SignedCommand {
        var random = SystemRandom()
        let command = CommandBuilder.command(arguments, base: base, issuedAt: Clock.now, random: &random)
        return SignedCommand(
            command: command,
            approvals: try operators.prefix(2).map { try CommandBuilder.approve(command, as: $0.0, key: $0.1) })
    }
}

extension DevFiles {
    /// Where a running `coffer dev` writes its HSM's loopback address (removed when it stops).
    var hsmAddressFile: String { root + "/hsm.address" }

    /// The running coffer dev's HSM: `.running` when the address file names an HSM that answers a fresh
    /// challenge as an operational online member of `domain`'s domain (at its epoch or later: the pool
    /// catches up), `.absent` when no file is there or nothing answers at its address (coffer dev is not
    /// running), and `.busy` when something answers but is not that (coffer dev is starting or recovering).
    func runningHSM(domain: DomainState) async -> RunningHSM {
        guard let data = FileManager.default.contents(atPath: hsmAddressFile),
            let address = HSMAddress(
                String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
        else { return .absent }
        guard let connection = try? await HSMConnection.connect(to: address) else { return .absent }
        defer { Task { await connection.close() } }
        var random = SystemRandom()
        let challenge = random.bytes(count: WireLimits.challengeLength)
        guard case .identity(let signed)? = try? await connection.request(.identify(challenge: challenge)),
            signed.identity.challenge == challenge, signed.isSelfSigned, signed.identity.domainID == domain.domainID,
            let epoch = signed.identity.epoch, epoch >= domain.epoch,
            epoch > domain.epoch
                || domain.members.contains(where: { $0.hsmID == signed.identity.hsmID && $0.kind == .online })
        else { return .busy }
        return .running(address)
    }
}

/// What `DevFiles.runningHSM(domain:)` found.
enum RunningHSM {
    case running(HSMAddress)
    case absent
    case busy
}
