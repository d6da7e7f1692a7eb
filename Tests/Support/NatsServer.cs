using System.Diagnostics;

namespace CaptionSidecar.Tests.Support;

/// <summary>
/// A private nats-server for one test: its own ports, store folder and the users and permissions that
/// scripts/nats-headless.sh writes (docs/relay.md), so tests can kill and restart it without disturbing others.
/// The nats-server binary is the one scripts/nats-headless.sh installs; missing, the test skips locally and fails
/// under CI.
/// </summary>
public sealed class NatsServer : IAsyncDisposable
{
    private readonly string _executable;
    private readonly string _folder;
    private readonly Dictionary<string, string> _passwords;
    private Process? _process;
    private readonly StringWriter _log = new();

    private NatsServer(string executable, string folder, int port, int httpPort, Dictionary<string, string> passwords, string? caFile)
    {
        _executable = executable;
        _folder = folder;
        Port = port;
        HttpPort = httpPort;
        _passwords = passwords;
        CaFile = caFile;
    }

    /// <summary>
    /// With TLS: the PEM of the private CA that signed the server's certificate (for 127.0.0.1), which a client
    /// trusts through <c>SSL_CERT_FILE</c>; null without TLS.
    /// </summary>
    public string? CaFile { get; }

    private string Scheme => CaFile is null ? "nats" : "tls";

    /// <summary>The client port on 127.0.0.1.</summary>
    public int Port { get; }

    /// <summary>The monitoring port (<c>/healthz</c>, <c>/varz</c>).</summary>
    public int HttpPort { get; }

    /// <summary>The sidecar user's URL: may publish only the captions of the streams the server was made for.</summary>
    public string SidecarUrl => Url("sidecar");

    /// <summary>The relay user's URL: may only read.</summary>
    public string RelayUrl => Url("relay");

    /// <summary>A user that may do anything (for tests that inspect or set up).</summary>
    public string AdminUrl => Url("admin");

    /// <summary>The URL without credentials.</summary>
    public string PlainUrl => $"{Scheme}://127.0.0.1:{Port}";

    /// <summary>What the server printed so far (for failure messages).</summary>
    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    /// <summary>The URL of <paramref name="user"/> with its password.</summary>
    public string Url(string user, string? password = null) =>
        $"{Scheme}://{user}:{Uri.EscapeDataString(password ?? _passwords[user])}@127.0.0.1:{Port}";

    /// <summary>
    /// Writes a config whose sidecar user may publish the captions of <paramref name="streams"/> (default "demo"),
    /// starts the server and waits until it answers. With <paramref name="tls"/>, clients must use TLS (URLs are
    /// <c>tls://</c>): a private CA made with openssl signs the server's certificate (see <see cref="CaFile"/>).
    /// </summary>
    public static async Task<NatsServer> StartAsync(IReadOnlyList<string>? streams = null, CancellationToken cancellationToken = default, bool tls = false)
    {
        var executable = Peers.RequireExecutable("nats-server");
        var folder = Path.Combine(Path.GetTempPath(), $"caption-nats-test-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        var port = TestHost.FreePort();
        var httpPort = TestHost.FreePort();
        List<string> args = [Path.Combine(TestHost.RepoRoot, "scripts", "nats-headless.sh"), "config", "--dir", folder, "--port", $"{port}", "--http-port", $"{httpPort}"];
        foreach (var stream in streams ?? ["demo"])
        {
            args.AddRange(["--stream", stream]);
        }

        var (code, _, error) = await Peers.RunAsync("bash", args, TimeSpan.FromSeconds(30), cancellationToken);
        Assert.True(code == 0, $"scripts/nats-headless.sh config failed: {error}");
        var passwords = File.ReadAllLines(Path.Combine(folder, "users.env"))
            .Select(l => l.Split('=', 2))
            .Where(p => p.Length == 2 && p[0].StartsWith("NATS_", StringComparison.Ordinal))
            .ToDictionary(p => p[0]["NATS_".Length..^"_PASSWORD".Length].ToLowerInvariant(), p => p[1]);
        string? caFile = null;
        if (tls)
        {
            caFile = await MakeCertificatesAsync(folder, cancellationToken);
            await File.AppendAllTextAsync(
                Path.Combine(folder, "nats.conf"),
                $"\ntls {{\n  cert_file: \"{Path.Combine(folder, "server.pem")}\"\n  key_file: \"{Path.Combine(folder, "server.key")}\"\n  timeout: 2\n}}\n",
                cancellationToken);
        }

        var server = new NatsServer(executable, folder, port, httpPort, passwords, caFile);
        await server.StartProcessAsync(cancellationToken);
        return server;
    }

    /// <summary>A private CA and a certificate for 127.0.0.1 signed by it (EC P-256, two days), made with openssl.</summary>
    private static async Task<string> MakeCertificatesAsync(string folder, CancellationToken cancellationToken)
    {
        Peers.RequireExecutable("openssl");
        const string Script = """
            set -e
            cd "$1"
            openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.pem -days 2 -subj "/CN=CaptionSidecar test CA" 2>/dev/null
            openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout server.key -out server.csr -subj "/CN=127.0.0.1" 2>/dev/null
            printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > server.ext
            openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 -extfile server.ext 2>/dev/null
            """;
        var (code, _, error) = await Peers.RunAsync("bash", ["-c", Script, "certificates", folder], TimeSpan.FromSeconds(60), cancellationToken);
        Assert.True(code == 0, $"openssl could not make the test certificates: {error}");
        return Path.Combine(folder, "ca.pem");
    }

    /// <summary>Kills the server at once (SIGKILL), as a crash would.</summary>
    public async Task KillAsync()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        _process?.Dispose();
        _process = null;
    }

    /// <summary>Starts the killed server again on the same ports and store; returns once it answers.</summary>
    public Task RestartAsync(CancellationToken cancellationToken = default) => StartProcessAsync(cancellationToken);

    /// <summary>True when the monitoring endpoint says the server is healthy.</summary>
    public async Task<bool> AnswersAsync(CancellationToken cancellationToken = default)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        try
        {
            var body = await http.GetStringAsync(new Uri($"http://127.0.0.1:{HttpPort}/healthz"), cancellationToken);
            return body.Contains("\"ok\"", StringComparison.Ordinal);
        }
        catch (HttpRequestException)
        {
            return false;
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private async Task StartProcessAsync(CancellationToken cancellationToken)
    {
        var psi = new ProcessStartInfo(_executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(Path.Combine(_folder, "nats.conf"));
        var process = Process.Start(psi) ?? throw new InvalidOperationException("nats-server did not start");
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        await Poll.UntilAsync(
            AnswersAsync,
            $"nats-server answered on port {Port}",
            cancellationToken,
            timeoutMs: 20000,
            intervalMs: 50,
            failIf: () => process.HasExited ? $"nats-server exited with {process.ExitCode} at start" : null,
            details: () => Log);
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_log)
        {
            _log.WriteLine(line);
        }
    }
}
