using System.Collections.Concurrent;
using CaptionSidecar.FakeRealtime;
using CaptionSidecar.ObsBridge;
using CaptionSidecar.Tests.Support.Browser;
using CaptionSidecar.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace CaptionSidecar.Tests.EndToEnd;

/// <summary>
/// Two speakers live, with every real peer: two espeak-ng voices played at once (in part) into two PulseAudio null
/// sinks, each captured from its monitor as one speaker; the captions reach the real headless OBS as <c>Name: text</c>
/// and the overlay in Chromium with the names, and every transcript line carries the right name, in time order.
/// </summary>
[Collection(RealObsCollection.Name)]
[Trait("Category", "Integration")]
public sealed class SpeakersLiveEndToEndTests : IAsyncLifetime
{
    private readonly TestFolder _folder = new("caption-speakers-live-");
    private readonly ChromiumFixture _chromium = new();
    private readonly List<string> _modules = [];
    private FakeRealtimeServer _server = null!;
    private string? _pactl;

    public async ValueTask InitializeAsync()
    {
        _server = await FakeRealtimeServer.StartAsync(SpeakersEndToEndTests.ServerOptions());
        await _chromium.InitializeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var module in _modules)
        {
            await Peers.RunAsync(_pactl!, ["unload-module", module], TimeSpan.FromSeconds(10), CancellationToken.None);
        }

        await _chromium.DisposeAsync();
        await _server.DisposeAsync();
        WireSchema.AssertClean(_server);
        _folder.Dispose();
    }

    [Fact(Timeout = 240000)]
    public async Task Run_TwoSpeakersOnTwoPulseSinks_NamesInObsTheOverlayAndEveryTranscriptInTimeOrder()
    {
        var ct = TestContext.Current.CancellationToken;
        var (obsUrl, obsPassword) = ObsEndToEndTests.Obs();
        var browser = _chromium.RequireBrowser();
        _pactl = await Peers.RequirePulseDaemonAsync("caption_test", ct);
        var paplay = Peers.RequireExecutable("paplay");
        var alice = await LoadSinkAsync("alice", ct);
        var bob = await LoadSinkAsync("bob", ct);
        var (aliceWav, aliceSpans) = await SpeechFixture.SpeakAtAsync(_folder.Path, "alice", "en+f3", [(1.0, SpeakersEndToEndTests.AliceEn[0]), (8.0, SpeakersEndToEndTests.AliceEn[1])], 14, ct);
        var (bobWav, bobSpans) = await SpeechFixture.SpeakAtAsync(_folder.Path, "bob", "en-us", [(2.8, SpeakersEndToEndTests.BobEn[0]), (10.5, SpeakersEndToEndTests.BobEn[1])], 14, ct);
        Assert.True(bobSpans[0].Start < aliceSpans[0].End, "the speakers overlap in part");

        var template = $"Speakers {Guid.NewGuid():N} ({{lang}})";
        var source = template.Replace("{lang}", "en", StringComparison.Ordinal);
        await using var sidecar = SidecarProcess.Start(
        [
            "--speaker", $"Alice=device:{alice}.monitor", "--speaker", $"Bob=device:{bob}.monitor", "--languages", "es",
            "--engine", "openai", "--api-key", "test-key", "--realtime-endpoint", _server.Endpoint.ToString(),
            "--transcript-dir", _folder.Transcripts, "--data-dir", _folder.Data, "--http-port", "0",
            "--obs-url", obsUrl.ToString(), "--obs-source-template", template,
        ], environment: new Dictionary<string, string> { ["OBS_WEBSOCKET_PASSWORD"] = obsPassword });
        using var control = await SidecarControl.ConnectAsync(sidecar);
        await _server.WaitForSessionsAsync(s => s.Count(x => x.SessionType == FakeSessionType.Transcription && x.IsOpen) == 2, TimeSpan.FromSeconds(60));

        await using var obs = new ObsClient(Options.Create(new ObsClientOptions { Url = obsUrl, Password = obsPassword }), NullLogger<ObsClient>.Instance, TimeProvider.System);
        obs.Start();
        var page = await browser.NewPageAsync();
        await page.GotoAsync($"http://127.0.0.1:{control.Port}/overlay?lang=en");

        // Both voices at once; meanwhile every name OBS and the overlay show is noted.
        using var watching = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var obsTexts = new ConcurrentBag<string>();
        var overlayNames = new ConcurrentBag<string>();
        var watch = Task.WhenAll(
            WatchAsync(async token => { if (await ObsEndToEndTests.ReadTextAsync(obs, source, token) is { } text) { obsTexts.Add(text); } }, watching.Token),
            WatchAsync(async _ => { foreach (var name in await page.EvaluateAsync<string[]>("() => [...document.querySelectorAll('[data-speaker]')].map(e => e.getAttribute('data-speaker'))")) { overlayNames.Add(name); } }, watching.Token));
        var plays = new[] { (alice, aliceWav), (bob, bobWav) }
            .Select(p => Peers.RunAsync(paplay, [$"--device={p.Item1}", p.Item2], TimeSpan.FromSeconds(60), ct)).ToList();
        foreach (var play in await Task.WhenAll(plays))
        {
            Assert.True(play.ExitCode == 0, $"paplay failed: {play.Stderr}");
        }

        await Poll.UntilAsync(
            () => _server.Sessions.Where(s => s.SessionType == FakeSessionType.Transcription).Sum(s => s.CompletedTranscripts.Count) >= 4,
            "both speakers' two sentences transcribed", ct, timeoutMs: 60000, intervalMs: 100, failIf: sidecar.ExitedWith, details: sidecar.StderrDetails);
        await Poll.UntilAsync(
            () => obsTexts.Any(t => t.Contains($"Bob: {SpeakersEndToEndTests.BobEn[1]}", StringComparison.Ordinal)) && overlayNames.Contains("Alice") && overlayNames.Contains("Bob"),
            "OBS shows Bob's last line and the overlay has shown both names", ct, timeoutMs: 60000, intervalMs: 100,
            details: () => $"OBS: {string.Join(" | ", obsTexts.Distinct())}\noverlay: {string.Join(", ", overlayNames.Distinct())}");
        await watching.CancelAsync();
        await watch;
        sidecar.Interrupt();
        Assert.Equal(0, await sidecar.WaitForExitAsync(TimeSpan.FromSeconds(30), ct));

        // OBS: Name: text, the name on the first line of each speaker's block.
        Assert.Contains(obsTexts, t => t.Contains($"Alice: {SpeakersEndToEndTests.AliceEn[0]}", StringComparison.Ordinal));
        Assert.Contains(obsTexts, t => t.Contains("Bob: ", StringComparison.Ordinal));
        Assert.DoesNotContain(obsTexts, t => t.Contains("Alice: Bob", StringComparison.Ordinal));

        // Every transcript line names its speaker, in time order, translations included.
        SpeakersEndToEndTests.AssertSrt(_folder.Transcripts, "en", [$"Alice: {SpeakersEndToEndTests.AliceEn[0]}", $"Bob: {SpeakersEndToEndTests.BobEn[0]}", $"Alice: {SpeakersEndToEndTests.AliceEn[1]}", $"Bob: {SpeakersEndToEndTests.BobEn[1]}"]);
        SpeakersEndToEndTests.AssertSrt(_folder.Transcripts, "es", [$"Alice: {SpeakersEndToEndTests.AliceEs[0]}", $"Bob: {SpeakersEndToEndTests.BobEs[0]}", $"Alice: {SpeakersEndToEndTests.AliceEs[1]}", $"Bob: {SpeakersEndToEndTests.BobEs[1]}"]);
        Assert.Contains($"Bob: {SpeakersEndToEndTests.BobEs[1]}", sidecar.Stdout, StringComparison.Ordinal);
    }

    private static async Task WatchAsync(Func<CancellationToken, Task> probe, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await probe(ct);
                await Task.Delay(50, ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Microsoft.Playwright.PlaywrightException)
            {
                // The page is navigating or closing: the next probe sees it.
            }
        }
    }

    private async Task<string> LoadSinkAsync(string who, CancellationToken ct)
    {
        var sink = $"caption_{who}_{Environment.ProcessId}";
        var (loaded, module, error) = await Peers.RunAsync(_pactl!, ["load-module", "module-null-sink", $"sink_name={sink}"], TimeSpan.FromSeconds(10), ct);
        Assert.True(loaded == 0, $"pactl load-module failed: {error}");
        _modules.Add(module.Trim());
        return sink;
    }
}
