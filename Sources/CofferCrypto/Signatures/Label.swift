/// The domain-separation labels of PROTOCOL §9. Every signature and KDF use names one, so no value
/// can be replayed in another role.
public struct Label: Hashable, Sendable, CustomStringConvertible {
    /// The label's UTF-8 bytes.
    public let bytes: [UInt8]

    private init(_ text: String) { bytes = Array(text.utf8) }

    /// Signs `HSMIdentity` (§3).
    public static let hsmIdentity = Label("coffer hsm identity v1")
    /// Operators' approvals of a `QuorumCommand` (§5).
    public static let quorumCommand = Label("coffer quorum command v1")
    /// The exporter's signature over a `DomainToken` (§6).
    public static let domainToken = Label("coffer domain token v1")
    /// KDF algorithm id for wrapping the DKEK to a member (§6).
    public static let dkekWrap = Label("coffer dkek wrap v1")
    /// The host's `Sig1` over `SessionInit` (§7).
    public static let sessionInit = Label("coffer session init v1")
    /// The HSM's `Sig2` over `SessionAccept` (§7).
    public static let sessionAccept = Label("coffer session accept v1")
    /// KDF algorithm id for the negotiated session key `Kneg` (§7).
    public static let session = Label("coffer session v1")
    /// AAD prefix of a sealed session request (§7).
    public static let request = Label("coffer request v1")
    /// AAD prefix of a sealed session response (§7).
    public static let response = Label("coffer response v1")
    /// The SP 800-108 label of `DeriveDEK` (§1, §8).
    public static let dek = Label("coffer dek v1")
    /// KDF algorithm id for sealing recovery shares (§8).
    public static let recoveryShare = Label("coffer recovery share v1")

    /// Every label, in the order of §9.
    public static let all: [Label] = [
        .hsmIdentity, .quorumCommand, .domainToken, .dkekWrap, .sessionInit, .sessionAccept, .session,
        .request, .response, .dek, .recoveryShare,
    ]

    public var description: String { String(decoding: bytes, as: UTF8.self) }
}
