using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text.Json;
using CaptionSidecar.FakeRealtime;
using CaptionSidecar.Tests.Support;

namespace CaptionSidecar.Tests.EndToEnd;

/// <summary>
/// The sidecar process with inputs that misbehave (a FIFO nobody writes to, a silent stdin, a command that never
/// writes), inputs that are wrong (not a WAV file, a folder), a port already taken, and relative paths.
/// </summary>
[Trait("Category", "Integration")]
public sealed class InputEndToEndTests : IAsyncLifetime
{
    /// <summary>The product promises 5 s from Ctrl+C to exit; the bound is generous for a loaded machine.</summary>
    private static readonly TimeSpan ExitBound = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private readonly TestFolder _folder = new("caption-input-");
    private FakeRealtimeServer _server = null!;

    public async ValueTask InitializeAsync()
    {
        _server = await FakeRealtimeServer.StartAsync(new FakeRealtimeOptions { Script = FakeScript.FromLines(SpeechFixture.Sentences) });
    }

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        _folder.Dispose();
    }

    [Fact(Timeout = 120000)]
    public async Task Run_FifoWithoutWriter_StatusAndLogSayTheInputIsWaitedFor()
    {
        RequireUnix();
        var ct = TestContext.Current.CancellationToken;
        var fifo = await MakeFifoAsync(ct);
        await using var sidecar = SidecarProcess.Start(_folder.SidecarArgs(_server, $"file:{fifo}"));
        using var control = await SidecarControl.ConnectAsync(sidecar);

        // Logged once the status says so: no polling needed after it.
        await sidecar.WaitForStderrAsync($"Still waiting for the audio input file:{fifo}", 1, StartTimeout);
        using var status = await GetStatusAsync(control, ct);

        var input = status.RootElement.GetProperty("input");
        Assert.Equal($"file:{fifo}", input.GetProperty("source").GetString());
        Assert.Equal("opening", input.GetProperty("state").GetString());
        Assert.Contains("FIFO", input.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.True(input.TryGetProperty("since", out _));
    }

    public static TheoryData<string> SilentInputs => ["file", "stdin", "cmd"];

    [Theory(Timeout = 120000)]
    [MemberData(nameof(SilentInputs))]
    public async Task Sigint_InputThatNeverDelivers_ExitsPromptlyWithoutRunningOutOfShutdownTime(string kind)
    {
        RequireUnix();
        var ct = TestContext.Current.CancellationToken;
        var input = kind switch
        {
            "file" => $"file:{await MakeFifoAsync(ct)}",
            "stdin" => "stdin",
            _ => "cmd:sleep 600",
        };
        await using var sidecar = SidecarProcess.Start(_folder.SidecarArgs(_server, input), redirectStdin: kind == "stdin");
        await sidecar.WaitForStderrAsync(kind == "file" ? "Still waiting for the audio input" : "Audio input opened", 1, StartTimeout);

        sidecar.Interrupt();
        var exit = await sidecar.WaitForExitAsync(ExitBound, ct);

        Assert.True(exit == 0, $"exit {exit}\n{sidecar.Stderr}");
        Assert.DoesNotContain("Shutdown time ran out", sidecar.Stderr, StringComparison.Ordinal);
    }

    [Fact(Timeout = 120000)]
    public async Task Run_InputFileIsNotWav_OneClearLineAndExitCode2()
    {
        var ct = TestContext.Current.CancellationToken;
        var path = Path.Combine(_folder.Path, "notes.wav");
        await File.WriteAllTextAsync(path, "these are my notes, not audio", ct);
        await using var sidecar = SidecarProcess.Start(_folder.SidecarArgs(_server, $"file:{path}"));

        var exit = await sidecar.WaitForExitAsync(StartTimeout, ct);

        Assert.True(exit == 2, $"exit {exit}\n{sidecar.Stderr}");
        Assert.Contains("The audio input cannot be opened: notes.wav", sidecar.Stderr.Replace(_folder.Path + Path.DirectorySeparatorChar, string.Empty, StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.Contains("not a WAV file", sidecar.Stderr, StringComparison.Ordinal);
        AssertNoStackTrace(sidecar.Stderr);
    }

    [Fact(Timeout = 120000)]
    public async Task Run_FolderAsFileInput_SaysItIsAFolderAndExitCode2()
    {
        var ct = TestContext.Current.CancellationToken;
        var folder = Directory.CreateDirectory(Path.Combine(_folder.Path, "recordings")).FullName;
        await using var sidecar = SidecarProcess.Start(_folder.SidecarArgs(_server, $"file:{folder}"));

        var exit = await sidecar.WaitForExitAsync(StartTimeout, ct);

        Assert.True(exit == 2, $"exit {exit}\n{sidecar.Stderr}");
        Assert.Contains($"'{folder}' is a folder, not a WAV file", sidecar.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("does not exist", sidecar.Stderr, StringComparison.Ordinal);
        AssertNoStackTrace(sidecar.Stderr);
    }

    [Fact(Timeout = 120000)]
    public async Task Run_HttpPortInUse_OneClearLineAndExitCode2()
    {
        var ct = TestContext.Current.CancellationToken;
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;
        var args = _folder.SidecarArgs(_server, "stdin");
        args[args.IndexOf("--http-port") + 1] = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        await using var sidecar = SidecarProcess.Start(args, redirectStdin: true);

        var exit = await sidecar.WaitForExitAsync(StartTimeout, ct);

        Assert.True(exit == 2, $"exit {exit}\n{sidecar.Stderr}");
        Assert.Contains($"Port {port} (the overlay and control page) is already in use", sidecar.Stderr, StringComparison.Ordinal);
        AssertNoStackTrace(sidecar.Stderr);
    }

    [Fact(Timeout = 240000)]
    public async Task DotnetRun_RelativePaths_ResolveAgainstTheFolderTheCommandRanFrom()
    {
        var ct = TestContext.Current.CancellationToken;
        var wav = await SpeechFixture.SpeakAsync(_folder.Path, ct);
        var cwd = Directory.CreateDirectory(Path.Combine(_folder.Path, "here")).FullName;
        File.Copy(wav, Path.Combine(cwd, "talk.wav"));
        string[] args =
        [
            "--input", "file:talk.wav", "--transcript-dir", "./transcripts", "--data-dir", "data", "--engine", "openai",
            "--api-key", "test-key", "--realtime-endpoint", _server.Endpoint.ToString(), "--no-obs", "--http-port", "0",
            "--exit-at-end", "--no-pacing",
        ];

        await using var sidecar = SidecarProcess.Start(args, workingDirectory: cwd, dotnetRun: true);
        var exit = await sidecar.WaitForExitAsync(TimeSpan.FromSeconds(180), ct);

        Assert.True(exit == 0, $"exit {exit}\n{sidecar.Stderr}");
        Assert.Single(Directory.GetFiles(Path.Combine(cwd, "transcripts"), "*-en.srt"));
        Assert.True(Directory.Exists(Path.Combine(cwd, "data", "logs")), "the data folder is relative to where the command ran");
        Assert.False(Directory.Exists(Path.Combine(SidecarProcess.RepoRoot, "Sidecar", "transcripts")), "transcripts went into the project folder");
    }

    private static void RequireUnix()
    {
        if (OperatingSystem.IsWindows())
        {
            Assert.Skip("FIFOs and SIGINT are Unix features.");
        }
    }

    private static void AssertNoStackTrace(string stderr) =>
        Assert.DoesNotMatch(@"(?m)^\s+at \S+\(", stderr);

    private static async Task<JsonDocument> GetStatusAsync(SidecarControl control, CancellationToken ct)
    {
        using var get = new HttpRequestMessage(HttpMethod.Get, "/api/status");
        get.Headers.Authorization = new AuthenticationHeaderValue("Bearer", control.Token);
        using var response = await control.Http.SendAsync(get, ct);
        response.EnsureSuccessStatusCode();
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct));
    }

    private async Task<string> MakeFifoAsync(CancellationToken ct)
    {
        var fifo = Path.Combine(_folder.Path, "audio.fifo");
        var (code, _, stderr) = await Peers.RunAsync("mkfifo", [fifo], TimeSpan.FromSeconds(10), ct);
        Assert.True(code == 0, stderr);
        return fifo;
    }
}
