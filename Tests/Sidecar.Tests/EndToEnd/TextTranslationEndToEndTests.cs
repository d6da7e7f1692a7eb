using System.Text.Json;
using CaptionSidecar.FakeRealtime;
using CaptionSidecar.Tests.Support;

namespace CaptionSidecar.Tests.EndToEnd;

/// <summary>
/// Translation from text as the sidecar process against the fake Realtime server: a translation session that drops
/// mid-stream is replaced with no line lost or doubled, and a translation that stalls past the lag limit is skipped
/// (counted in status) while the next lines go on.
/// </summary>
[Trait("Category", "Integration")]
public sealed class TextTranslationEndToEndTests : IAsyncLifetime
{
    private readonly TestFolder _folder = new("caption-text-e2e-");
    private FakeRealtimeServer _server = null!;

    public async ValueTask InitializeAsync()
    {
        _server = await FakeRealtimeServer.StartAsync(new FakeRealtimeOptions { Script = TranslationEndToEndTests.Script() });
    }

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        WireSchema.AssertClean(_server);
        _folder.Dispose();
    }

    [Fact(Timeout = 180000)]
    public async Task Run_TranslationSessionDropsMidStream_ReplacedAndEveryLineTranslatedOnceInOrder()
    {
        var ct = TestContext.Current.CancellationToken;
        var wav = await SpeechFixture.SpeakAsync(_folder.Path, ct);
        await using var sidecar = SidecarProcess.Start(_folder.SidecarArgs(_server, $"file:{wav}", "--languages", "es,fr", "--exit-at-end"));

        // After the first Spanish line, the Spanish session's connection is cut without a close.
        await sidecar.WaitForStdoutAsync(TranslationEndToEndTests.Spanish[0], TimeSpan.FromSeconds(60));
        await _server.Faults.DropConnectionAsync(_server.Sessions.Single(s => s.TargetLanguage == "es" && s.IsOpen));

        var exit = await sidecar.WaitForExitAsync(TimeSpan.FromSeconds(120), ct);
        Assert.True(exit == 0, $"exit {exit}\n{sidecar.Stderr}");
        Assert.True(_server.Sessions.Count(s => s.TargetLanguage == "es") >= 2, "the dropped session was replaced");
        Assert.Equal(TranslationEndToEndTests.Spanish, Lines("es"));
        Assert.Equal(TranslationEndToEndTests.French, Lines("fr"));
        Assert.Equal(SpeechFixture.Sentences, Lines("en"));
        Assert.All(_server.Sessions.Where(s => s.TargetLanguage is not null), s => Assert.Equal(0, s.AppendedBytes));

        // Each request's context is the lines before its own (with their translations), never a later line.
        foreach (var request in _server.Sessions.Where(s => s.TargetLanguage is not null).SelectMany(s => s.ResponseRequests))
        {
            var own = Array.IndexOf(SpeechFixture.Sentences, request.SourceText);
            Assert.True(own >= 0, $"a request for an unknown line: {request.SourceText}");
            Assert.All(request.ContextTexts.Where(t => Array.IndexOf(SpeechFixture.Sentences, t) >= 0),
                t => Assert.True(Array.IndexOf(SpeechFixture.Sentences, t) <= own, $"'{t}' is in the context of the earlier line '{request.SourceText}'"));
        }
    }

    [Fact(Timeout = 180000)]
    public async Task Run_TranslationStallsPastTheLagLimit_SkippedAndCountedInStatusAndTheNextLinesGoOn()
    {
        var ct = TestContext.Current.CancellationToken;
        var wav = await SpeechFixture.SpeakAsync(_folder.Path, ct);
        _server.Faults.HoldAnswer(TranslationEndToEndTests.Spanish[1]); // streams nothing until cancelled

        await using var sidecar = SidecarProcess.Start(_folder.SidecarArgs(_server, $"file:{wav}", "--languages", "es", "--translation-lag", "3", "--exit-at-end"));
        using var control = await SidecarControl.ConnectAsync(sidecar);
        await Poll.UntilAsync(
            async token => SkippedLate(await control.Http.GetStringAsync(new Uri("/api/status", UriKind.Relative), token)) == 1,
            "status counts one Spanish line skipped as late", ct, timeoutMs: 60000, failIf: sidecar.ExitedWith, details: sidecar.StderrDetails);

        var exit = await sidecar.WaitForExitAsync(TimeSpan.FromSeconds(120), ct);
        Assert.True(exit == 0, $"exit {exit}\n{sidecar.Stderr}");
        Assert.Equal([TranslationEndToEndTests.Spanish[0], TranslationEndToEndTests.Spanish[2]], Lines("es"));
        Assert.Equal(SpeechFixture.Sentences, Lines("en"));
        Assert.Contains("not final within 3 s", sidecar.Stderr, StringComparison.Ordinal);
    }

    private static long SkippedLate(string status)
    {
        using var json = JsonDocument.Parse(status);
        return json.RootElement.GetProperty("tracks").EnumerateArray()
            .Where(t => t.GetProperty("language").GetString() == "es")
            .Sum(t => t.TryGetProperty("linesSkippedLate", out var n) ? n.GetInt64() : 0);
    }

    private string[] Lines(string language)
    {
        var srt = Assert.Single(Directory.GetFiles(_folder.Transcripts, $"*-{language}.srt"));
        return [.. SrtFile.Parse(File.ReadAllText(srt)).Select(c => c.Text.ReplaceLineEndings(" "))];
    }
}
