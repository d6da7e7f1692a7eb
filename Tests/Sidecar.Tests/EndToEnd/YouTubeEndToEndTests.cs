using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using CaptionSidecar.FakeRealtime;
using CaptionSidecar.Tests.Support;
using CaptionSidecar.Tests.YouTube;

namespace CaptionSidecar.Tests.EndToEnd;

/// <summary>
/// Issue 14 end to end: the sidecar process (spoken audio from a file, the fake Realtime server) posts the finished
/// lines of one language to the fake YouTube ingestion server, which checks every post as YouTube documents them
/// (query, seq, content type, time format, UTF-8).
/// </summary>
[Trait("Category", "Integration")]
public sealed class YouTubeEndToEndTests : IAsyncLifetime
{
    private readonly TestFolder _folder = new("caption-youtube-e2e-");
    private FakeRealtimeServer? _server;
    private FakeYouTubeIngestion _youTube = null!;

    public async ValueTask InitializeAsync()
    {
        _youTube = new FakeYouTubeIngestion();
        await _youTube.StartAsync(TestContext.Current.CancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await _youTube.DisposeAsync();
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        _folder.Dispose();
    }

    private async Task<FakeRealtimeServer> RealtimeAsync(IReadOnlyList<string> lines) =>
        _server = await FakeRealtimeServer.StartAsync(new FakeRealtimeOptions { Script = FakeScript.FromLines(lines) });

    private static string[] Numbered(int count) => [.. Enumerable.Range(1, count).Select(n => $"Line {n} of the stream.")];

    [Fact(Timeout = 180000)]
    public async Task Run_EveryFinalLinePostedOnceInOrder_TimedOnTheAudioTimeline_UrlNeverShown()
    {
        var ct = TestContext.Current.CancellationToken;
        var wav = await SpeechFixture.SpeakAsync(_folder.Path, ct);
        var server = await RealtimeAsync(SpeechFixture.Sentences);
        var before = DateTime.UtcNow;
        await using var sidecar = SidecarProcess.Start(_folder.SidecarArgs(server, $"file:{wav}", "--youtube-captions", _youTube.Url, "--youtube-offset", "2.5", "--exit-at-end"));
        using var control = await SidecarControl.ConnectAsync(sidecar);
        var status = await control.Http.GetStringAsync(new Uri("/api/status", UriKind.Relative), ct);

        var exit = await sidecar.WaitForExitAsync(TimeSpan.FromSeconds(120), ct);

        Assert.True(exit == 0, $"exit {exit}\n{sidecar.Stderr}\n{_youTube.Describe()}");
        Assert.Empty(_youTube.Problems);
        Assert.Equal(SpeechFixture.Sentences, _youTube.Accepted.Select(c => c.Text));
        Assert.Equal(Enumerable.Range(1, _youTube.AcceptedSeqs.Count).Select(i => (long)i), _youTube.AcceptedSeqs);
        Assert.All(_youTube.Posts, p => Assert.Equal(0, p.InFlightAtArrival));

        // Times increase, and each is the line's start on the audio timeline (the transcript's cue) plus one
        // constant: the timeline's zero (after the process started) and the 2.5 s offset.
        var times = _youTube.Accepted.Select(c => c.Time).ToList();
        Assert.Equal(times.Order(), times);
        var cues = SrtFile.Parse(File.ReadAllText(Assert.Single(Directory.GetFiles(_folder.Transcripts, "*-en.srt"))));
        Assert.Equal(times.Count, cues.Count);
        var zeros = times.Zip(cues, (time, cue) => time - cue.Start - TimeSpan.FromSeconds(2.5)).ToList();
        Assert.All(zeros, z => Assert.InRange((z - zeros[0]).Duration(), TimeSpan.Zero, TimeSpan.FromMilliseconds(2)));
        Assert.InRange(zeros[0], before, DateTime.UtcNow);

        // The URL is a secret: its host only, anywhere the sidecar writes.
        AssertNoSecret(sidecar.Stdout + sidecar.Stderr + status + string.Join('\n', Directory.GetFiles(Path.Combine(_folder.Data, "logs")).Select(File.ReadAllText)));
        using var json = JsonDocument.Parse(status);
        Assert.Equal("127.0.0.1", json.RootElement.GetProperty("youTube").GetProperty("host").GetString());
    }

    [Fact(Timeout = 180000)]
    public async Task Run_ServerErrorsAndADroppedConnection_RetriedWithTheSameSeq_NothingLostOrDoubled()
    {
        var ct = TestContext.Current.CancellationToken;
        var wav = await SpeechFixture.SpeakAsync(_folder.Path, ct);
        var server = await RealtimeAsync(SpeechFixture.Sentences);
        // Today's URLs from YouTube Studio are often only ...closedcaption?cid=KEY: the sidecar adds nothing but seq.
        await _youTube.DisposeAsync();
        _youTube = new FakeYouTubeIngestion(urlStyle: IngestionUrlStyle.StreamKey);
        await _youTube.StartAsync(ct);
        _youTube.EnqueueAnswers(FakeAnswer.Fail(500), FakeAnswer.Fail(503), FakeAnswer.Drop, FakeAnswer.Ok, FakeAnswer.Fail(502), FakeAnswer.Ok);
        await using var sidecar = SidecarProcess.Start(_folder.SidecarArgs(server, $"file:{wav}", "--youtube-captions", _youTube.Url, "--exit-at-end"));

        var exit = await sidecar.WaitForExitAsync(TimeSpan.FromSeconds(120), ct);

        Assert.True(exit == 0, $"exit {exit}\n{sidecar.Stderr}\n{_youTube.Describe()}");
        Assert.Empty(_youTube.Problems);
        Assert.Equal(SpeechFixture.Sentences, _youTube.Accepted.Select(c => c.Text));
        Assert.Equal(Enumerable.Range(1, _youTube.AcceptedSeqs.Count).Select(i => (long)i), _youTube.AcceptedSeqs);
        Assert.True(_youTube.Posts.Count(p => p.IsRetry) >= 4, _youTube.Describe());
        Assert.Contains("retrying with the same seq", sidecar.Stderr, StringComparison.Ordinal);
        AssertNoSecret(sidecar.Stderr);
    }

    [Fact(Timeout = 180000)]
    public async Task Run_Refused_PausesWithTheReasonInStatus_UntilAModeratorTurnsItOnAgain()
    {
        var ct = TestContext.Current.CancellationToken;
        var (wav, _) = await SpeechFixture.RepeatAsync(_folder.Path, SpeechFixture.Sentences[0], TimeSpan.FromSeconds(1.5), 12, ct);
        var lines = Numbered(12);
        var server = await RealtimeAsync(lines);
        _youTube.EnqueueAnswers(FakeAnswer.Refuse(400, "The live stream is not active"));
        await using var sidecar = SidecarProcess.Start(_folder.SidecarArgs(server, $"file:{wav}", "--youtube-captions", _youTube.Url));
        using var control = await SidecarControl.ConnectAsync(sidecar);

        var refused = await Poll.ForAsync(
            async token => YouTube(await control.Http.GetStringAsync(new Uri("/api/status", UriKind.Relative), token)),
            y => y.State == "refused",
            "the status shows the YouTube output paused", ct, timeoutMs: 60000, failIf: sidecar.ExitedWith, details: sidecar.StderrDetails);
        Assert.Equal("YouTube refused the captions: 400 The live stream is not active; check the ingestion URL", refused.Problem);
        Assert.Contains("YouTube refused the captions: 400 The live stream is not active", sidecar.Stderr, StringComparison.Ordinal);
        var posts = _youTube.Posts.Count;

        // Lines go on while paused: dropped and counted, nothing posted.
        await Poll.UntilAsync(
            async token => YouTube(await control.Http.GetStringAsync(new Uri("/api/status", UriKind.Relative), token)).LinesDropped >= 2,
            "lines dropped while paused", ct, timeoutMs: 60000, failIf: sidecar.ExitedWith, details: sidecar.StderrDetails);
        Assert.Equal(posts, _youTube.Posts.Count);

        // A wrong URL is refused with what to fix; then a moderator turns it on again: the next lines are posted, with the next seq.
        using (var wrong = await PutYouTubeAsync(control, "{\"url\":\"rtmp://a.rtmp.youtube.com/live2\"}", ct))
        {
            Assert.Equal(System.Net.HttpStatusCode.BadRequest, wrong.StatusCode);
            Assert.Contains("http:// or https://", await wrong.Content.ReadAsStringAsync(ct), StringComparison.Ordinal);
        }

        using var answer = await PutYouTubeAsync(control, "{\"enabled\":true}", ct);
        Assert.True(answer.IsSuccessStatusCode, await answer.Content.ReadAsStringAsync(ct));
        await _youTube.WaitForAcceptedAsync(1, ct).WaitAsync(TimeSpan.FromSeconds(60), ct);
        Assert.Empty(_youTube.Problems);
        Assert.Equal(2, _youTube.AcceptedSeqs[0]);
        Assert.Contains(_youTube.Accepted[0].Text, lines.Skip(2));
    }

    [Fact(Timeout = 180000)]
    public async Task Run_YouTubeDownLongerThanTheAgeLimit_OldLinesDroppedAndCounted_NewOnesPosted()
    {
        var ct = TestContext.Current.CancellationToken;
        var (wav, _) = await SpeechFixture.RepeatAsync(_folder.Path, SpeechFixture.Sentences[0], TimeSpan.FromSeconds(1.5), 14, ct);
        var lines = Numbered(14);
        var server = await RealtimeAsync(lines);
        _youTube.DefaultAnswer = FakeAnswer.Fail(503);
        await using var sidecar = SidecarProcess.Start(
            _folder.SidecarArgs(server, $"file:{wav}", "--youtube-captions", _youTube.Url, "--exit-at-end"),
            environment: new Dictionary<string, string> { ["CAPTIONSIDECAR_Outputs__YouTube__MaxAgeSeconds"] = "8" });
        using var control = await SidecarControl.ConnectAsync(sidecar);

        var down = await Poll.ForAsync(
            async token => YouTube(await control.Http.GetStringAsync(new Uri("/api/status", UriKind.Relative), token)),
            y => y.LinesDropped >= 1,
            "lines older than 8 s dropped while YouTube fails", ct, timeoutMs: 90000, failIf: sidecar.ExitedWith, details: sidecar.StderrDetails);
        _youTube.DefaultAnswer = FakeAnswer.Ok;

        var exit = await sidecar.WaitForExitAsync(TimeSpan.FromSeconds(120), ct);
        Assert.True(exit == 0, $"exit {exit}\n{sidecar.Stderr}\n{_youTube.Describe()}");
        Assert.Empty(_youTube.Problems);
        Assert.Contains("older than 8 s", sidecar.Stderr, StringComparison.Ordinal);
        Assert.NotEmpty(_youTube.Accepted);
        Assert.True(down.Errors >= 1);
        var posted = _youTube.Accepted.Select(c => c.Text).ToList();
        Assert.Equal(lines.Where(posted.Contains), posted); // in order, each once
        // What was not posted was dropped and counted: the final count (in the log at exit) and the posted lines add up.
        var srt = SrtFile.Parse(File.ReadAllText(Assert.Single(Directory.GetFiles(_folder.Transcripts, "*-en.srt"))));
        var dropped = srt.Count - _youTube.Accepted.Count;
        Assert.True(dropped >= 1, _youTube.Describe());
        Assert.Equal(Enumerable.Range(1, _youTube.AcceptedSeqs.Count).Select(i => (long)i + _youTube.AcceptedSeqs[0] - 1), _youTube.AcceptedSeqs);
    }

    private static async Task<HttpResponseMessage> PutYouTubeAsync(SidecarControl control, string json, CancellationToken ct)
    {
        using var put = new HttpRequestMessage(HttpMethod.Put, "/api/outputs/youtube") { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        put.Headers.Authorization = new AuthenticationHeaderValue("Bearer", control.Token);
        return await control.Http.SendAsync(put, ct);
    }

    private void AssertNoSecret(string text)
    {
        foreach (var (name, value) in _youTube.UrlParameters.Where(p => p.Value.Length >= 6))
        {
            Assert.False(text.Contains(value, StringComparison.Ordinal), $"the URL's {name} ({value}) was shown or logged");
        }

        Assert.DoesNotContain(_youTube.Url, text, StringComparison.Ordinal);
    }

    private static YouTubeState YouTube(string status)
    {
        using var json = JsonDocument.Parse(status);
        var y = json.RootElement.GetProperty("youTube");
        return new YouTubeState(
            y.GetProperty("state").GetString()!,
            y.TryGetProperty("problem", out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() : null,
            y.GetProperty("linesDropped").GetInt64(),
            y.GetProperty("errors").GetInt64());
    }

    private sealed record YouTubeState(string State, string? Problem, long LinesDropped, long Errors);
}
