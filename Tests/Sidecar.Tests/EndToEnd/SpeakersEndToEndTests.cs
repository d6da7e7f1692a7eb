using System.Net;
using System.Text.Json;
using CaptionSidecar.FakeRealtime;

namespace CaptionSidecar.Tests.EndToEnd;

/// <summary>
/// Two speakers, each on their own input (two espeak-ng voices, talking in turn and partly at once), as the sidecar
/// process against the fake Realtime server with a script per speaker: every line labelled with its speaker in every
/// transcript and on the console, in time order, translated from text with the label of the line it translates; and
/// a speaker muted over the API is no longer heard.
/// </summary>
[Trait("Category", "Integration")]
public sealed class SpeakersEndToEndTests : IAsyncLifetime
{
    internal static readonly string[] AliceEn = ["Welcome back to the stream everyone.", "Today we are building a caption tool.", "The overlay shows every name.", "That is all for today."];
    internal static readonly string[] AliceEs = ["Bienvenidos de nuevo al directo a todos.", "Hoy construimos una herramienta de subtítulos.", "La superposición muestra cada nombre.", "Eso es todo por hoy."];
    internal static readonly string[] BobEn = ["Hello from the guest chair.", "Thanks for having me on the show.", "I like the colours a lot.", "See you next week."];
    internal static readonly string[] BobEs = ["Hola desde la silla de invitados.", "Gracias por invitarme al programa.", "Me gustan mucho los colores.", "Nos vemos la semana que viene."];

    private readonly TestFolder _folder = new("caption-speakers-e2e-");
    private FakeRealtimeServer _server = null!;

    public async ValueTask InitializeAsync()
    {
        _server = await FakeRealtimeServer.StartAsync(ServerOptions());
    }

    /// <summary>The fake's settings: a script for each speaker, with the Spanish of every line.</summary>
    internal static FakeRealtimeOptions ServerOptions() => new()
    {
        SpeakerScripts = new Dictionary<string, FakeScript>
        {
            ["Alice"] = FakeScript.FromColumns(new Dictionary<string, IReadOnlyList<string>> { ["en"] = AliceEn, ["es"] = AliceEs }),
            ["Bob"] = FakeScript.FromColumns(new Dictionary<string, IReadOnlyList<string>> { ["en"] = BobEn, ["es"] = BobEs }),
        },
    };

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        WireSchema.AssertClean(_server);
        _folder.Dispose();
    }

    [Fact(Timeout = 180000)]
    public async Task Run_TwoSpeakersFromTwoFiles_EveryLineLabelledInTimeOrderInEveryTranscriptAndTranslatedFromText()
    {
        var ct = TestContext.Current.CancellationToken;
        // Bob starts while Alice's first sentence still runs: both are heard, each on their own session.
        var (alice, aliceSpans) = await SpeechFixture.SpeakAtAsync(_folder.Path, "alice", "en+f3", [(1.0, AliceEn[0]), (8.0, AliceEn[1])], 14, ct);
        var (bob, bobSpans) = await SpeechFixture.SpeakAtAsync(_folder.Path, "bob", "en-us", [(2.8, BobEn[0]), (10.5, BobEn[1])], 14, ct);
        Assert.True(bobSpans[0].Start < aliceSpans[0].End, "the speakers overlap in part");

        await using var sidecar = SidecarProcess.Start(_folder.SidecarArgs(_server, "default",
            "--speaker", $"Alice=file:{alice}", "--speaker", $"Bob=file:{bob}", "--languages", "es", "--exit-at-end"));
        var exit = await sidecar.WaitForExitAsync(TimeSpan.FromSeconds(120), ct);
        Assert.True(exit == 0, $"exit {exit}\n{sidecar.Stderr}");

        // In start order across the speakers: Alice, Bob, Alice, Bob.
        string[] en = [$"Alice: {AliceEn[0]}", $"Bob: {BobEn[0]}", $"Alice: {AliceEn[1]}", $"Bob: {BobEn[1]}"];
        string[] es = [$"Alice: {AliceEs[0]}", $"Bob: {BobEs[0]}", $"Alice: {AliceEs[1]}", $"Bob: {BobEs[1]}"];
        AssertSrt(_folder.Transcripts, "en", en);
        AssertSrt(_folder.Transcripts, "es", es);
        AssertVtt("en", [("Alice", AliceEn[0]), ("Bob", BobEn[0]), ("Alice", AliceEn[1]), ("Bob", BobEn[1])]);
        AssertJsonl("es", [("Alice", AliceEs[0]), ("Bob", BobEs[0]), ("Alice", AliceEs[1]), ("Bob", BobEs[1])]);
        Assert.All(en.Concat(es), line => Assert.Contains(line, sidecar.Stdout, StringComparison.Ordinal));

        // Each speaker heard once, by their own transcription session; the translation hears no audio at all.
        Assert.Equal(["Alice", "Bob"], _server.Sessions.Where(s => s.SessionType == FakeSessionType.Transcription).Select(s => s.Speaker).Order(StringComparer.Ordinal));
        var translation = Assert.Single(_server.Sessions, s => s.TargetLanguage == "es");
        Assert.DoesNotContain("input_audio_buffer.append", translation.ClientEventTypes);
        Assert.Equal(0, translation.AppendedBytes);
    }

    [Fact(Timeout = 180000)]
    public async Task Run_SpeakerMutedOverTheApi_TheirSessionClosesNothingOfThemIsSentAndTheOtherSpeakerGoesOn()
    {
        var ct = TestContext.Current.CancellationToken;
        var (alice, _) = await SpeechFixture.SpeakAtAsync(_folder.Path, "alice", "en+f3", [(1.0, AliceEn[0]), (7.0, AliceEn[1]), (13.0, AliceEn[2]), (19.0, AliceEn[3])], 24, ct);
        var (bob, _) = await SpeechFixture.SpeakAtAsync(_folder.Path, "bob", "en-us", [(3.5, BobEn[0]), (9.5, BobEn[1]), (15.5, BobEn[2]), (21.0, BobEn[3])], 24, ct);

        await using var sidecar = SidecarProcess.Start(_folder.SidecarArgs(_server, "default",
            "--speaker", $"Alice=file:{alice}", "--speaker", $"Bob=file:{bob}", "--languages", "", "--exit-at-end"));
        using var control = await SidecarControl.ConnectAsync(sidecar);
        await sidecar.WaitForStdoutAsync($"Bob: {BobEn[0]}", TimeSpan.FromSeconds(60));

        using var muted = await control.SetSpeakerCaptionedAsync("Bob", false, ct);
        Assert.Equal(HttpStatusCode.OK, muted.StatusCode);
        using (var state = JsonDocument.Parse(await muted.Content.ReadAsStringAsync(ct)))
        {
            Assert.False(state.RootElement.GetProperty("captioned").GetBoolean());
        }

        await _server.WaitForSessionsAsync(s => s.Where(x => x.Speaker == "Bob").All(x => !x.IsOpen), TimeSpan.FromSeconds(30));
        var bobBytes = _server.Sessions.Where(s => s.Speaker == "Bob").Sum(s => s.AppendedBytes);
        using (var speakers = JsonDocument.Parse(await control.Http.GetStringAsync(new Uri("/api/speakers", UriKind.Relative), ct)))
        {
            Assert.Contains(speakers.RootElement.EnumerateArray(), s => s.GetProperty("name").GetString() == "Bob" && !s.GetProperty("captioned").GetBoolean());
        }

        var exit = await sidecar.WaitForExitAsync(TimeSpan.FromSeconds(120), ct);
        Assert.True(exit == 0, $"exit {exit}\n{sidecar.Stderr}");

        // Alice went on to the end; nothing of Bob was sent after the mute, and his later lines never appear.
        Assert.Contains($"Alice: {AliceEn[3]}", sidecar.Stdout, StringComparison.Ordinal);
        Assert.Single(_server.Sessions, s => s.Speaker == "Bob");
        Assert.Equal(bobBytes, _server.Sessions.Where(s => s.Speaker == "Bob").Sum(s => s.AppendedBytes));
        Assert.DoesNotContain(BobEn[2], sidecar.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain(BobEn[3], sidecar.Stdout, StringComparison.Ordinal);
    }

    /// <summary>The language's SRT holds exactly <paramref name="expected"/> (line breaks as spaces), cues in time order.</summary>
    internal static void AssertSrt(string transcripts, string language, string[] expected)
    {
        var srt = Assert.Single(Directory.GetFiles(transcripts, $"*-{language}.srt"));
        var cues = SrtFile.Parse(File.ReadAllText(srt));
        Assert.Equal(expected, cues.Select(c => c.Text.ReplaceLineEndings(" ")));
        Assert.Equal(cues.Select(c => c.Start).Order(), cues.Select(c => c.Start));
    }

    private void AssertVtt(string language, (string Speaker, string Text)[] expected)
    {
        var vtt = File.ReadAllText(Assert.Single(Directory.GetFiles(_folder.Transcripts, $"*-{language}.vtt")));
        var at = 0;
        foreach (var (speaker, text) in expected)
        {
            var next = vtt.IndexOf($"<v {speaker}>{text}", at, StringComparison.Ordinal);
            Assert.True(next >= 0, $"'<v {speaker}>{text}' after position {at} in\n{vtt}");
            at = next + 1;
        }
    }

    private void AssertJsonl(string language, (string Speaker, string Text)[] expected)
    {
        var lines = File.ReadAllLines(Assert.Single(Directory.GetFiles(_folder.Transcripts, $"*-{language}.jsonl")));
        var records = lines.Select(l => JsonDocument.Parse(l).RootElement).Select(r => (r.GetProperty("speaker").GetString()!, r.GetProperty("text").GetString()!)).ToArray();
        Assert.Equal(expected, records);
    }
}
