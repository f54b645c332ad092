//! The test SMTP server against a raw SMTP dialogue: what a client sends is what a
//! test reads back (headers and bodies decoded), across a stop and a restart, and AUTH
//! is enforced when asked for.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::Duration;

use fabrique_testkit::SmtpServer;

const WAIT: Duration = Duration::from_secs(10);

/// A subject in two RFC 2047 words (base64, then Q) folded over two lines, a To in Q,
/// a quoted-printable text part with a soft line break inside a UTF-8 sequence, and a
/// base64 html part.
const FRENCH_MAIL: &str = "From: Fabrique <noreply@fabrique.example>\r\n\
To: =?utf-8?q?=C3=89milie_Durand?= <emilie@example.org>\r\n\
Subject: =?utf-8?b?Vm90cmUgcmFwcG9ydCBlc3QgcHLDqnQ=?=\r\n =?utf-8?q?_=E2=80=94_=C3=A9t=C3=A9_2025?=\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/alternative; boundary=\"frontiere\"\r\n\
\r\n\
--frontiere\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
Content-Transfer-Encoding: quoted-printable\r\n\
\r\n\
Bonjour =C3=89milie,\r\n\
votre rapport est pr=C3=AAt : https://fabrique.example/rapports/42 =E2=80=\r\n\
=94 bonne lecture, et bel =C3=A9t=C3=A9 =C3=A0 toute l'=C3=A9quipe.\r\n\
--frontiere\r\n\
Content-Type: text/html; charset=utf-8\r\n\
Content-Transfer-Encoding: base64\r\n\
\r\n\
PHA+Qm9uam91ciDDiW1pbGllLDwvcD4KPHA+Vm90cmUgcmFwcG9ydCBlc3QgPGI+cHLDqnQ8L2I+LjwvcD4K\r\n\
--frontiere--\r\n";

/// One SMTP client connection, checking each reply's code.
struct Dialogue {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Dialogue {
    fn open(port: u16) -> Self {
        let stream = TcpStream::connect(("127.0.0.1", port))
            .unwrap_or_else(|e| panic!("cannot connect to the SMTP server: {e}"));
        stream.set_read_timeout(Some(WAIT)).expect("timeout");
        let mut dialogue = Self {
            reader: BufReader::new(stream.try_clone().expect("clone")),
            writer: stream,
        };
        dialogue.expect(220);
        dialogue.say("EHLO client.example", 250);
        dialogue
    }

    /// Reads one reply (all its lines) and checks its code.
    fn expect(&mut self, code: u16) -> String {
        let mut reply = String::new();
        loop {
            let mut line = String::new();
            self.reader.read_line(&mut line).expect("SMTP reply");
            reply.push_str(&line);
            // "250-…" continues the reply, "250 …" ends it.
            if line.len() < 4 || line.as_bytes()[3] != b'-' {
                break;
            }
        }
        assert!(
            reply.starts_with(&code.to_string()),
            "expected {code}, got {reply:?}"
        );
        reply
    }

    fn say(&mut self, line: &str, code: u16) -> String {
        self.writer
            .write_all(format!("{line}\r\n").as_bytes())
            .expect("SMTP write");
        self.expect(code)
    }

    fn send(&mut self, from: &str, to: &[&str], message: &str) {
        self.say(&format!("MAIL FROM:<{from}>"), 250);
        for rcpt in to {
            self.say(&format!("RCPT TO:<{rcpt}>"), 250);
        }
        self.say("DATA", 354);
        self.say(&format!("{message}."), 250);
    }

    fn quit(mut self) {
        self.say("QUIT", 221);
    }
}

#[tokio::test]
async fn smtp_server_receives_decodes_and_survives_a_restart() {
    let mut server = SmtpServer::start().await;
    assert_eq!(server.url(), format!("smtp://127.0.0.1:{}", server.port()));

    let mut client = Dialogue::open(server.port());
    client.send(
        "noreply@fabrique.example",
        &["emilie@example.org", "copie@example.org"],
        FRENCH_MAIL,
    );
    client.quit();

    let mails = server.wait_for(1, WAIT).await;
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert_eq!(mail.mail_from, "noreply@fabrique.example");
    assert_eq!(mail.rcpt_tos, ["emilie@example.org", "copie@example.org"]);
    assert_eq!(
        mail.header("subject").as_deref(),
        Some("Votre rapport est prêt — été 2025")
    );
    assert_eq!(
        mail.header("To").as_deref(),
        Some("Émilie Durand <emilie@example.org>")
    );
    assert_eq!(
        mail.text_body(),
        "Bonjour Émilie,\nvotre rapport est prêt : https://fabrique.example/rapports/42 — \
         bonne lecture, et bel été à toute l'équipe."
    );
    assert_eq!(
        mail.html_body(),
        "<p>Bonjour Émilie,</p>\n<p>Votre rapport est <b>prêt</b>.</p>\n"
    );
    assert!(
        mail.data.contains("quoted-printable"),
        "the raw text is kept"
    );

    server.stop().await;
    let refused = TcpStream::connect(("127.0.0.1", server.port())).is_err();
    assert!(refused, "a stopped server still accepts connections");

    server.restart().await;
    let mut client = Dialogue::open(server.port());
    client.send(
        "noreply@fabrique.example",
        &["second@example.org"],
        "Subject: =?utf-8?q?Deuxi=C3=A8me?=\r\n\r\nSans MIME.\r\n",
    );
    client.quit();
    let mails = server.wait_for(2, WAIT).await;
    assert_eq!(mails.len(), 2, "the mail from before the restart is kept");
    assert_eq!(mails[1].rcpt_tos, ["second@example.org"]);
    assert_eq!(mails[1].header("Subject").as_deref(), Some("Deuxième"));
    assert_eq!(mails[1].text_body(), "Sans MIME.\n");
}

#[tokio::test]
async fn smtp_server_with_auth_refuses_mail_until_the_client_logs_in() {
    let server = SmtpServer::start_with_auth("alice", "s3cret").await;
    assert_eq!(
        server.url(),
        format!("smtp://alice:s3cret@127.0.0.1:{}", server.port())
    );

    let mut client = Dialogue::open(server.port());
    let ehlo = client.say("EHLO client.example", 250);
    assert!(ehlo.contains("AUTH"), "AUTH not offered: {ehlo}");
    client.say("MAIL FROM:<noreply@fabrique.example>", 530);
    // "\0alice\0wrong", then "\0alice\0s3cret".
    client.say("AUTH PLAIN AGFsaWNlAHdyb25n", 535);
    client.say("AUTH PLAIN AGFsaWNlAHMzY3JldA==", 235);
    client.send(
        "noreply@fabrique.example",
        &["emilie@example.org"],
        "Subject: ok\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nAuthentifié.\r\n",
    );
    client.quit();

    let mails = server.wait_for(1, WAIT).await;
    assert_eq!(mails[0].text_body(), "Authentifié.\n");
}
