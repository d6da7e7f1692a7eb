using System.Globalization;
using System.Text.Json;
using CaptionSidecar.FakeRealtime;

namespace CaptionSidecar.Tests.EndToEnd;

/// <summary>
/// A long stream in miniature: many minutes of speech through the sidecar process, faster than real time, against
/// the fake Realtime server whose sessions expire every few seconds, so every track replaces its session again and
/// again mid-stream. Every sentence must be captioned exactly once, in order, in every language. (scripts/soak.sh
/// runs the same check over four hours of audio.)
/// </summary>
[Trait("Category", "Integration")]
public sealed class LongStreamEndToEndTests : IAsyncLifetime
{
    private const int Sentences = 160;
    private readonly TestFolder _folder = new("caption-long-e2e-");
    private FakeRealtimeServer _server = null!;

    public async ValueTask InitializeAsync()
    {
        var numbered = Enumerable.Range(1, Sentences).ToArray();
        _server = await FakeRealtimeServer.StartAsync(new FakeRealtimeOptions
        {
            Script = FakeScript.FromColumns(new Dictionary<string, IReadOnlyList<string>>
            {
                ["en"] = [.. numbered.Select(n => $"Sentence {n}.")],
                ["es"] = [.. numbered.Select(n => $"Frase {n}.")],
            }),
            SessionLifetime = TimeSpan.FromSeconds(3),
        });
    }

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        WireSchema.AssertClean(_server);
        _folder.Dispose();
    }

    [Theory(Timeout = 300000)]
    [InlineData("audio")]
    [InlineData("text")]
    public async Task Run_SessionsExpiringEveryFewSecondsOverFifteenMinutesOfSpeech_EverySentenceCaptionedOnceInOrder(string translateFrom)
    {
        var ct = TestContext.Current.CancellationToken;
        var (wav, unit) = await SpeechFixture.RepeatAsync(_folder.Path, "This is one sentence of a long stream.", TimeSpan.FromSeconds(1.5), Sentences, ct);
        var transcripts = _folder.Transcripts;

        // Rollover off: at many times real time a 3 s session leaves no room for the old session to finish its turns
        // after a handover (at the service's 60 minutes there are 5 left); RealtimeTrackRolloverTests cover rollover
        // with audio at real time. This test is about what expiry and reconnection do to a long stream.
        await using var sidecar = SidecarProcess.Start(
            _folder.SidecarArgs(_server, $"file:{wav}", "--no-pacing", "--exit-at-end", "--languages", "es", "--translate-from", translateFrom),
            environment: new Dictionary<string, string> { ["CAPTIONSIDECAR_Realtime__RolloverAfterMinutes"] = "0" });
        var exit = await sidecar.WaitForExitAsync(TimeSpan.FromSeconds(240), ct);

        Assert.True(exit == 0, $"exit {exit}\n{sidecar.Stderr}");
        // The stream outlived its sessions many times over in both languages. (From text, the transcription alone
        // reads the file, as fast as it is answered: it may finish within one or two sessions.)
        Assert.True(_server.Sessions.Count(s => s.SessionType == FakeSessionType.Transcription) >= (translateFrom == "audio" ? 3 : 1), sidecar.Stderr);
        Assert.True(_server.Sessions.Count(s => s.TargetLanguage == "es") >= 3, sidecar.Stderr);
        AssertEverySentenceOnceInOrder("en", transcripts, unit);
        AssertEverySentenceOnceInOrder("es", transcripts, unit);
    }

    /// <summary>
    /// Which sentence a line captions follows from its place on the timeline, not from its text: the fake hands out
    /// its script lines in order, so an answer lost in a closing socket skips a script line without losing speech.
    /// </summary>
    private static void AssertEverySentenceOnceInOrder(string language, string transcripts, TimeSpan unit)
    {
        var file = Assert.Single(Directory.GetFiles(transcripts, $"*-{language}.jsonl"));
        var sentences = File.ReadAllLines(file)
            .Where(line => line.Length > 0)
            .Select(line =>
            {
                using var json = JsonDocument.Parse(line);
                var middle = (json.RootElement.GetProperty("start_ms").GetInt64() + json.RootElement.GetProperty("end_ms").GetInt64()) / 2.0;
                return (int)(middle / unit.TotalMilliseconds) + 1;
            })
            .ToList();

        Assert.True(Enumerable.Range(1, Sentences).SequenceEqual(sentences),
            string.Create(CultureInfo.InvariantCulture, $"{language}: {sentences.Count} lines; sentences missing: [{string.Join(", ", Enumerable.Range(1, Sentences).Except(sentences))}]; order: [{string.Join(", ", sentences)}]"));
    }
}
