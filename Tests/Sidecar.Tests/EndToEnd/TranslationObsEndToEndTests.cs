using CaptionSidecar.FakeRealtime;
using CaptionSidecar.ObsBridge;
using CaptionSidecar.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace CaptionSidecar.Tests.EndToEnd;

/// <summary>Several caption languages into the real headless OBS: one text source per language.</summary>
[Collection(RealObsCollection.Name)]
[Trait("Category", "Integration")]
public sealed class TranslationObsEndToEndTests : IDisposable
{
    private readonly TestFolder _folder = new("caption-translate-obs-e2e-");

    public void Dispose() => _folder.Dispose();

    [Fact(Timeout = 240000)]
    public async Task Run_SourceAndTwoTargetsWithRealObs_EachLanguagesTextSourceShowsItsOwnLinesInOrder()
    {
        var ct = TestContext.Current.CancellationToken;
        var (url, password) = ObsEndToEndTests.Obs();
        var wav = await SpeechFixture.SpeakAsync(_folder.Path, ct);
        await using var server = await FakeRealtimeServer.StartAsync(new FakeRealtimeOptions { Script = TranslationEndToEndTests.Script() }, ct);
        var template = $"Translation {Guid.NewGuid():N} ({{lang}})";
        await using var obs = new ObsClient(Options.Create(new ObsClientOptions { Url = url, Password = password }), NullLogger<ObsClient>.Instance, TimeProvider.System);
        obs.Start();

        await using var sidecar = SidecarProcess.Start(
            ["--input", $"file:{wav}", "--engine", "openai", "--api-key", "test-key", "--realtime-endpoint", server.Endpoint.ToString(),
             "--data-dir", _folder.Data, "--http-port", "0", "--languages", "es,fr", "--exit-at-end",
             "--obs-url", url.ToString(), "--obs-source-template", template],
            environment: new Dictionary<string, string> { ["OBS_WEBSOCKET_PASSWORD"] = password });

        // What each source shows, sampled while the speech plays (OBS has no event for a text change).
        var shown = new Dictionary<string, List<string>> { ["en"] = [], ["es"] = [], ["fr"] = [] };
        await Poll.UntilAsync(
            async probe =>
            {
                var exited = sidecar.HasExited; // sample once more after the exit, then stop
                foreach (var (language, texts) in shown)
                {
                    if (await ObsEndToEndTests.ReadTextAsync(obs, template.Replace("{lang}", language, StringComparison.Ordinal), probe) is { Length: > 0 } text
                        && (texts.Count == 0 || texts[^1] != text))
                    {
                        texts.Add(text);
                    }
                }

                return exited;
            },
            "the sidecar exited at the end of the speech",
            ct,
            timeoutMs: 180000,
            intervalMs: 50,
            details: () => $"shown so far: {string.Join("; ", shown.Select(s => $"{s.Key}: {string.Join(" | ", s.Value)}"))}\n{sidecar.StderrDetails()}");

        Assert.Equal(0, await sidecar.WaitForExitAsync(TimeSpan.FromSeconds(30), ct));
        TranslationEndToEndTests.AssertFeedShowsInOrder([.. shown["en"].Select(Unwrap)], SpeechFixture.Sentences);
        TranslationEndToEndTests.AssertFeedShowsInOrder([.. shown["es"].Select(Unwrap)], TranslationEndToEndTests.Spanish);
        TranslationEndToEndTests.AssertFeedShowsInOrder([.. shown["fr"].Select(Unwrap)], TranslationEndToEndTests.French);
    }

    /// <summary>A text source's text with its line breaks as spaces (the layout wraps at word boundaries).</summary>
    private static string Unwrap(string text) => text.Replace('\n', ' ');
}
