import ArgumentParser
import SDWANCore

#if canImport(Glibc)
import Glibc
#endif

/// `sdwan genkey`: a new private key, base64, as `wg genkey` prints it.
struct GenKey: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "genkey",
        abstract: "Print a new X25519 private key (base64). Save it with: umask 077; sdwan genkey > edge.key"
    )

    func run() throws {
        var random = SystemRandomSource()
        let key = PrivateKey.generate(using: &random)
        print(key.base64ForKeyFile())
    }
}

/// `sdwan pubkey`: reads a private key on stdin, prints its public key.
struct PubKey: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pubkey",
        abstract: "Read a private key on standard input and print its public key: sdwan pubkey < edge.key"
    )

    func run() throws {
        var text = ""
        while let line = readLine(strippingNewline: false) { text += line }
        do {
            let key = try PrivateKey(base64: text)
            print(key.publicKey.base64)
        } catch {
            throw ValidationError("standard input: \(error)")
        }
    }
}

/// `sdwan genpsk`: a new pre-shared key, base64.
struct GenPSK: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "genpsk",
        abstract: "Print a new random pre-shared key (base64). Save it with: umask 077; sdwan genpsk > branch.psk"
    )

    func run() throws {
        var random = SystemRandomSource()
        print(PresharedKey.generate(using: &random).base64ForKeyFile())
    }
}
