using System.Text.Json;
using CaptionSidecar.FakeRealtime;
using CaptionSidecar.Tests.EndToEnd;
using CaptionSidecar.Tests.Support;

namespace CaptionSidecar.Tests.Windows;

/// <summary>
/// The Windows release under Wine capturing through WASAPI, which Wine maps onto the test PulseAudio daemon
/// (scripts/pulse-headless.sh): espeak-ng speech played with paplay into a null sink reaches the fake Realtime
/// server, and the captions come back in order on stdout, the overlay feed and the transcripts. One sidecar start per
/// test: each start under Wine costs seconds, so each test checks everything one run can show.
/// </summary>
[Collection(CaptionSidecar.Tests.Audio.PulseAudioDaemon.Name)]
[Trait("Category", "Integration")]
[Trait("Category", "Wine")]
public sealed class WineCaptureTests : IAsyncLifetime
{
    private const string DefaultSink = "caption_test";
    private static readonly TimeSpan CaptionWait = TimeSpan.FromSeconds(90);

    // A sink of this test's own, named so that one part of its description is unique: Wine lists its monitor as the
    // input "Monitor of <description>" (and the sink itself as a loopback, which the name must not match).
    private readonly string _sink = $"caption_wine_{Environment.ProcessId}";
    private readonly string _description = $"CaptionWine{Environment.ProcessId}";
    private readonly TestFolder _folder = new("caption-wine-e2e-");
    private FakeRealtimeServer _server = null!;
    private string? _pactl;
    private string? _module;

    public async ValueTask InitializeAsync()
    {
        // The speech is played twice in the device test (before and after the device comes back).
        _server = await FakeRealtimeServer.StartAsync(new FakeRealtimeOptions
        {
            Script = FakeScript.FromLines([.. SpeechFixture.Sentences, .. SpeechFixture.Sentences]),
        });
    }

    public async ValueTask DisposeAsync()
    {
        await UnloadSinkAsync(CancellationToken.None);
        await _server.DisposeAsync();
        _folder.Dispose();
    }

    [Fact(Timeout = 480000)]
    public async Task DefaultInput_SpeechIntoTheDefaultSink_CaptionsInOrderOverlayAndApiAnswerAndSigintClosesTranscripts()
    {
        var ct = TestContext.Current.CancellationToken;
        var pactl = await Peers.RequirePulseDaemonAsync(DefaultSink, ct);
        var paplay = Peers.RequireExecutable("paplay");
        var launcher = await WineSidecar.RequireAsync(ct);
        var wav = await SpeechFixture.SpeakAsync(_folder.Path, ct);
        var (_, defaultSource, _) = await Peers.RunAsync(pactl, ["get-default-source"], TimeSpan.FromSeconds(10), ct);
        Assert.Equal($"{DefaultSink}.monitor", defaultSource.Trim());

        await using var sidecar = SidecarProcess.Start(Args("default"), launcher: launcher);
        using var control = await SidecarControl.ConnectAsync(sidecar);
        await WaitForSessionAsync(sidecar, ct);

        // The overlay and the control API answer from the Windows build (each request within 20 s).
        using var http = CancellationTokenSource.CreateLinkedTokenSource(ct);
        http.CancelAfter(TimeSpan.FromSeconds(60));
        control.Http.Timeout = TimeSpan.FromSeconds(20);
        Assert.Equal("ok", (await control.Http.GetStringAsync("/healthz", http.Token)).Trim());
        Assert.Contains("<html", await control.Http.GetStringAsync("/overlay", http.Token), StringComparison.OrdinalIgnoreCase);
        using (var status = JsonDocument.Parse(await control.Http.GetStringAsync("/api/status", http.Token)))
        {
            Assert.Equal("en", status.RootElement.GetProperty("tracks").EnumerateArray().Single().GetProperty("language").GetString());
        }

        await PlayAsync(paplay, DefaultSink, wav, ct);
        await WaitForCaptionsAsync(sidecar, SpeechFixture.Sentences.Length, ct);
        AssertInOrder(sidecar.Stdout, SpeechFixture.Sentences, "stdout");

        sidecar.Interrupt();
        var exit = await sidecar.WaitForExitAsync(TimeSpan.FromSeconds(60), ct);

        Assert.True(exit == 0, $"exit {exit}\n{sidecar.Stderr}");
        await AssertClosedTranscriptsAsync(SpeechFixture.Sentences, ct);
    }

    [Fact(Timeout = 480000)]
    public async Task NamedInput_ListedAndCaptured_CaptionsInOrderAndSigintClosesTranscripts()
    {
        var ct = TestContext.Current.CancellationToken;
        _pactl = await Peers.RequirePulseDaemonAsync(DefaultSink, ct);
        var paplay = Peers.RequireExecutable("paplay");
        var launcher = await WineSidecar.RequireAsync(ct);
        var wav = await SpeechFixture.SpeakAsync(_folder.Path, ct);
        await LoadSinkAsync(ct);

        // `devices` lists the daemon's inputs: the test daemon's own monitor and this test's.
        await using (var devices = SidecarProcess.Start(["devices"], launcher: launcher))
        {
            var code = await devices.WaitForExitAsync(TimeSpan.FromSeconds(60), ct);
            Assert.True(code == 0, $"devices exited with {code}\nstdout:\n{devices.Stdout}\nstderr:\n{devices.Stderr}");
            Assert.Contains("Monitor of CaptionSidecar_test", devices.Stdout, StringComparison.Ordinal);
            Assert.Contains($"Monitor of {_description}", devices.Stdout, StringComparison.Ordinal);
        }

        await using var sidecar = SidecarProcess.Start(Args($"device:Monitor of {_description}"), launcher: launcher);
        await WaitForSessionAsync(sidecar, ct);
        await PlayAsync(paplay, _sink, wav, ct);
        await WaitForCaptionsAsync(sidecar, SpeechFixture.Sentences.Length, ct);

        sidecar.Interrupt();
        var exit = await sidecar.WaitForExitAsync(TimeSpan.FromSeconds(60), ct);

        Assert.True(exit == 0, $"exit {exit}\n{sidecar.Stderr}");
        AssertInOrder(sidecar.Stdout, SpeechFixture.Sentences, "stdout");
        await AssertClosedTranscriptsAsync(SpeechFixture.Sentences, ct);
    }

    /// <summary>
    /// Under Wine the unloaded source leaves the stream's event firing with no packet behind it; the capture loop
    /// counts that as a stall and after 5 s treats the device as lost (see docs/windows.md, "What Wine 8 does").
    /// </summary>
    [Fact(Timeout = 480000)]
    public async Task NamedInput_UnloadedAndLoadedAgain_LogsTheLossReopensAndCaptionsResume()
    {
        var ct = TestContext.Current.CancellationToken;
        _pactl = await Peers.RequirePulseDaemonAsync(DefaultSink, ct);
        var paplay = Peers.RequireExecutable("paplay");
        var launcher = await WineSidecar.RequireAsync(ct);
        var wav = await SpeechFixture.SpeakAsync(_folder.Path, ct);
        await LoadSinkAsync(ct);

        await using var sidecar = SidecarProcess.Start(Args($"device:Monitor of {_description}"), launcher: launcher);
        await WaitForSessionAsync(sidecar, ct);
        await PlayAsync(paplay, _sink, wav, ct);
        await WaitForCaptionsAsync(sidecar, SpeechFixture.Sentences.Length, ct);

        // The device goes away (unplugged) and comes back under the same name: the sidecar says so, reopens it,
        // and what is played into it afterwards is captioned too.
        await UnloadSinkAsync(ct);
        await sidecar.WaitForStderrAsync("Audio device lost", 1, TimeSpan.FromSeconds(30));
        await LoadSinkAsync(ct);
        await sidecar.WaitForStderrAsync("Audio device reopened", 1, TimeSpan.FromSeconds(60));
        await PlayAsync(paplay, _sink, wav, ct);
        await WaitForCaptionsAsync(sidecar, 2 * SpeechFixture.Sentences.Length, ct);

        sidecar.Interrupt();
        var exit = await sidecar.WaitForExitAsync(TimeSpan.FromSeconds(60), ct);

        Assert.True(exit == 0, $"exit {exit}\n{sidecar.Stderr}");
        string[] twice = [.. SpeechFixture.Sentences, .. SpeechFixture.Sentences];
        AssertInOrder(sidecar.Stdout, twice, "stdout");
        await AssertClosedTranscriptsAsync(twice, ct);
    }

    private List<string> Args(string input) =>
    [
        "--input", input, "--engine", "openai", "--api-key", "test-key",
        "--realtime-endpoint", _server.Endpoint.ToString(),
        "--transcript-dir", WineSidecar.WindowsPath(_folder.Transcripts),
        "--data-dir", WineSidecar.WindowsPath(_folder.Data), "--no-obs", "--http-port", "0",
    ];

    private async Task LoadSinkAsync(CancellationToken ct)
    {
        var (code, module, error) = await Peers.RunAsync(
            _pactl!,
            ["load-module", "module-null-sink", $"sink_name={_sink}", $"sink_properties=device.description={_description}"],
            TimeSpan.FromSeconds(10),
            ct);
        Assert.True(code == 0, $"pactl load-module failed: {error}");
        _module = module.Trim();
    }

    private async Task UnloadSinkAsync(CancellationToken ct)
    {
        if (_module is null || _pactl is null)
        {
            return;
        }

        var (code, _, error) = await Peers.RunAsync(_pactl, ["unload-module", _module], TimeSpan.FromSeconds(10), ct);
        Assert.True(code == 0, $"pactl unload-module {_module} failed: {error}");
        _module = null;
    }

    private static async Task PlayAsync(string paplay, string sink, string wav, CancellationToken ct)
    {
        var (code, _, error) = await Peers.RunAsync(paplay, [$"--device={sink}", wav], TimeSpan.FromSeconds(60), ct);
        Assert.True(code == 0, $"paplay into {sink} failed: {error}");
    }

    private async Task WaitForSessionAsync(SidecarProcess sidecar, CancellationToken ct) =>
        await Poll.UntilAsync(
            () => _server.Sessions.Any(s => s.IsOpen),
            "the sidecar under Wine opened a Realtime session",
            ct,
            timeoutMs: 60000,
            intervalMs: 100,
            failIf: sidecar.ExitedWith,
            details: () => $"stdout:\n{sidecar.Stdout}\nstderr:\n{sidecar.Stderr}");

    private async Task WaitForCaptionsAsync(SidecarProcess sidecar, int count, CancellationToken ct)
    {
        string Progress() => string.Join(", ", _server.Sessions.Select(s => $"{s.CompletedTranscripts.Count} transcripts, {s.AppendedBytes} audio bytes"));
        await Poll.UntilAsync(
            () => _server.Sessions.Sum(s => s.CompletedTranscripts.Count) >= count,
            $"the fake server completed {count} transcripts",
            ct,
            timeoutMs: (int)CaptionWait.TotalMilliseconds,
            intervalMs: 100,
            failIf: () => sidecar.ExitedWith() is { } exited ? $"{Progress()}; {exited}" : null,
            details: () => $"{Progress()}\n{sidecar.StderrDetails()}");
        await Poll.UntilAsync(
            () => Occurrences(sidecar.Stdout, SpeechFixture.Sentences[^1]) >= count / SpeechFixture.Sentences.Length,
            "the last caption printed on stdout",
            ct,
            timeoutMs: 30000,
            intervalMs: 100,
            failIf: sidecar.ExitedWith,
            details: () => $"stdout:\n{sidecar.Stdout}");
    }

    /// <summary>Each of <paramref name="lines"/> appears in <paramref name="text"/>, each after the one before it.</summary>
    private static void AssertInOrder(string text, IReadOnlyList<string> lines, string where)
    {
        var at = 0;
        foreach (var line in lines)
        {
            var found = text.IndexOf(line, at, StringComparison.Ordinal);
            Assert.True(found >= 0, $"'{line}' missing (or out of order) in {where}:\n{text}");
            at = found + line.Length;
        }
    }

    private static int Occurrences(string text, string line)
    {
        var count = 0;
        for (var at = text.IndexOf(line, StringComparison.Ordinal); at >= 0; at = text.IndexOf(line, at + line.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }

    /// <summary>The SRT, VTT and JSONL transcripts hold exactly <paramref name="lines"/> in order, each file complete.</summary>
    private async Task AssertClosedTranscriptsAsync(IReadOnlyList<string> lines, CancellationToken ct)
    {
        var srt = Assert.Single(Directory.GetFiles(_folder.Transcripts, "*-en.srt"));
        var cues = SrtFile.Parse(await File.ReadAllTextAsync(srt, ct));
        Assert.Equal(string.Join(' ', lines), SrtFile.JoinedText(cues));
        Assert.Equal(Enumerable.Range(1, lines.Count), cues.Select(c => c.Index));

        var vtt = (await File.ReadAllTextAsync(Assert.Single(Directory.GetFiles(_folder.Transcripts, "*-en.vtt")), ct)).Replace("\r\n", "\n", StringComparison.Ordinal);
        Assert.StartsWith("WEBVTT", vtt, StringComparison.Ordinal);
        AssertInOrder(vtt, lines, "the VTT");
        Assert.EndsWith("\n", vtt, StringComparison.Ordinal);

        var jsonl = await File.ReadAllLinesAsync(Assert.Single(Directory.GetFiles(_folder.Transcripts, "*-en.jsonl")), ct);
        var texts = jsonl.Where(l => l.Length > 0).Select(l =>
        {
            using var doc = JsonDocument.Parse(l); // a line cut short by an unclean stop would not parse
            return doc.RootElement.EnumerateObject().Where(p => p.Name.Equals("text", StringComparison.OrdinalIgnoreCase)).Select(p => p.Value.GetString()).FirstOrDefault();
        }).OfType<string>().ToList();
        Assert.Equal(lines, texts);
    }
}
