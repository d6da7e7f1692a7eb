using CaptionSidecar.YouTube;

namespace CaptionSidecar.Tests.YouTube;

public sealed class YouTubeOutboxTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 3, 15, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(30);

    private static YouTubeIngestionUrl Url(string id = "abc")
    {
        Assert.True(YouTubeIngestionUrl.TryParse($"http://upload.youtube.com/closedcaption?cid={id}&key=yt_qc", out var url, out _));
        return url;
    }

    private static YouTubeLine Line(string text, DateTimeOffset spokenAt) => new(spokenAt, spokenAt, text);

    private static YouTubeOutbox OnOutbox(out YouTubeIngestionUrl url)
    {
        url = Url();
        var outbox = new YouTubeOutbox(MaxAge);
        Assert.Null(outbox.Configure(url, enabled: true, MaxAge, T0).Send);
        return outbox;
    }

    [Fact]
    public void Add_FirstLines_PostsThemAtOnceAsSeq1()
    {
        var outbox = OnOutbox(out var url);

        var step = outbox.Add([Line("Hello.", T0), Line("World.", T0.AddSeconds(1))], T0.AddSeconds(2));

        var post = Assert.IsType<YouTubePost>(step.Send);
        Assert.Equal(1, post.Seq);
        Assert.Same(url, post.Url);
        Assert.Equal(["Hello.", "World."], post.Lines.Select(l => l.Text));
        Assert.Equal("2026-12-03T15:00:00.000\nHello.\n2026-12-03T15:00:01.000\nWorld.\n", post.Body);
        Assert.Equal(YouTubeOutputState.Posting, outbox.State);
    }

    [Fact]
    public void Add_WhilePosting_WaitsThenGoesInOnePostWithTheNextSeq()
    {
        var outbox = OnOutbox(out _);
        var first = outbox.Add([Line("One.", T0)], T0).Send!;

        Assert.Null(outbox.Add([Line("Two.", T0.AddSeconds(1))], T0.AddSeconds(1)).Send);
        Assert.Null(outbox.Add([Line("Three.", T0.AddSeconds(1.2))], T0.AddSeconds(1.2)).Send);
        var next = outbox.Finished(first.Seq, new YouTubePostOutcome.Accepted(200, ""), T0.AddSeconds(2)).Send;

        Assert.NotNull(next);
        Assert.Equal(2, next.Seq);
        Assert.Equal(["Two.", "Three."], next.Lines.Select(l => l.Text));
        Assert.Equal((1, 1), (outbox.PostsSent, outbox.LinesSent));
    }

    [Fact]
    public void Finished_SoonerThanTheInterval_WaitsForTheSlot()
    {
        var outbox = OnOutbox(out _);
        var first = outbox.Add([Line("One.", T0)], T0).Send!;
        outbox.Add([Line("Two.", T0)], T0.AddMilliseconds(100));

        var step = outbox.Finished(first.Seq, new YouTubePostOutcome.Accepted(200, ""), T0.AddMilliseconds(200));

        Assert.Null(step.Send);
        Assert.Equal(YouTubeOutbox.MinInterval - TimeSpan.FromMilliseconds(200), step.WakeIn);
        Assert.Null(outbox.SlotDue(T0.AddMilliseconds(400)).Send);
        Assert.Equal(2, outbox.SlotDue(T0 + YouTubeOutbox.MinInterval).Send?.Seq);
    }

    [Fact]
    public void Retrying_KeepsThePostAndCountsTheError()
    {
        var outbox = OnOutbox(out _);
        var post = outbox.Add([Line("One.", T0)], T0).Send!;

        outbox.Retrying(post.Seq, "500: busy", T0.AddSeconds(1));
        outbox.Retrying(post.Seq, "network: reset", T0.AddSeconds(2));

        Assert.Same(post, outbox.InFlight);
        Assert.Equal(YouTubeOutputState.Retrying, outbox.State);
        Assert.Equal(2, outbox.Errors);
        Assert.Equal("network: reset", outbox.LastAnswer);
        Assert.Equal(1, outbox.NextSeq - 1);
    }

    [Fact]
    public void Refused_PausesDropsWhatWaitsAndWhatComes_UntilConfiguredAgain()
    {
        var outbox = OnOutbox(out var url);
        var post = outbox.Add([Line("One.", T0)], T0).Send!;
        outbox.Add([Line("Two.", T0)], T0);

        var step = outbox.Finished(post.Seq, new YouTubePostOutcome.Refused(403, "The stream has ended"), T0.AddSeconds(1));

        Assert.Null(step.Send);
        Assert.Equal(YouTubeOutputState.Refused, outbox.State);
        Assert.Equal("403 The stream has ended", outbox.RefusedReason);
        Assert.Equal(2, outbox.LinesDropped);
        Assert.Null(outbox.Add([Line("Three.", T0.AddSeconds(2))], T0.AddSeconds(2)).Send);
        Assert.Equal(3, outbox.LinesDropped);

        // The moderator turns it on again: posting resumes with the next seq (same URL).
        outbox.Configure(url, enabled: true, MaxAge, T0.AddSeconds(3));
        Assert.Equal(YouTubeOutputState.Idle, outbox.State);
        Assert.Null(outbox.RefusedReason);
        Assert.Equal(2, outbox.Add([Line("Four.", T0.AddSeconds(3))], T0.AddSeconds(3)).Send?.Seq);
    }

    [Fact]
    public void Stale_DropsThePostsLinesAndGoesOn()
    {
        var outbox = OnOutbox(out _);
        var post = outbox.Add([Line("Old.", T0), Line("Older too.", T0)], T0).Send!;
        outbox.Add([Line("New.", T0.AddSeconds(31))], T0.AddSeconds(31));

        var next = outbox.Finished(post.Seq, new YouTubePostOutcome.Stale("500"), T0.AddSeconds(31)).Send;

        Assert.Equal(2, outbox.LinesDropped);
        Assert.Equal(2, next?.Seq);
        Assert.Equal(["New."], next!.Lines.Select(l => l.Text));
    }

    [Fact]
    public void Next_WaitingLinesOlderThanTheLimit_AreDroppedAndCounted()
    {
        var outbox = OnOutbox(out _);
        var post = outbox.Add([Line("First.", T0)], T0).Send!;
        outbox.Add([Line("Spoken long ago.", T0), Line("Spoken just now.", T0.AddSeconds(40))], T0.AddSeconds(40));

        var next = outbox.Finished(post.Seq, new YouTubePostOutcome.Accepted(200, ""), T0.AddSeconds(40)).Send;

        Assert.Equal(["Spoken just now."], next!.Lines.Select(l => l.Text));
        Assert.Equal(1, outbox.LinesDropped);
    }

    [Fact]
    public void Add_ManyLines_PostsAtMostTheLimitPerPost()
    {
        var outbox = OnOutbox(out _);

        var post = outbox.Add(Enumerable.Range(0, 25).Select(i => Line($"L{i}", T0)), T0).Send!;

        Assert.Equal(YouTubeOutbox.MaxLinesPerPost, post.Lines.Count);
        Assert.Equal(5, outbox.Pending);
    }

    [Fact]
    public void Add_OverTheWaitingLimit_DropsTheOldest()
    {
        var outbox = OnOutbox(out _);
        outbox.Add([Line("In flight.", T0)], T0);

        outbox.Add(Enumerable.Range(0, YouTubeOutbox.MaxPending + 3).Select(i => Line($"L{i}", T0)), T0);

        Assert.Equal(YouTubeOutbox.MaxPending, outbox.Pending);
        Assert.Equal(3, outbox.LinesDropped);
    }

    [Fact]
    public void Configure_NewUrlWhilePosting_CancelsRequeuesAndStartsSeqAgain()
    {
        var outbox = OnOutbox(out _);
        var first = outbox.Add([Line("One.", T0)], T0).Send!;
        outbox.Finished(first.Seq, new YouTubePostOutcome.Accepted(200, ""), T0);
        var second = outbox.Add([Line("Two.", T0.AddSeconds(1))], T0.AddSeconds(1)).Send!;
        Assert.Equal(2, second.Seq);

        var other = Url("other");
        var step = outbox.Configure(other, enabled: true, MaxAge, T0.AddSeconds(2));

        Assert.True(step.CancelInFlight);
        Assert.Equal(1, step.Send?.Seq);
        Assert.Same(other, step.Send!.Url);
        Assert.Equal(["Two."], step.Send.Lines.Select(l => l.Text));
        // The cancelled post's late outcome changes nothing.
        Assert.Equal(default, outbox.Finished(second.Seq, new YouTubePostOutcome.Accepted(200, ""), T0.AddSeconds(2)));
        Assert.Equal(1, outbox.PostsSent);
    }

    [Fact]
    public void Configure_Off_CancelsAndIgnoresLines()
    {
        var outbox = OnOutbox(out var url);
        outbox.Add([Line("One.", T0)], T0);

        var step = outbox.Configure(url, enabled: false, MaxAge, T0.AddSeconds(1));

        Assert.True(step.CancelInFlight);
        Assert.Equal(YouTubeOutputState.Off, outbox.State);
        Assert.Null(outbox.Add([Line("Two.", T0.AddSeconds(1))], T0.AddSeconds(1)).Send);
        Assert.Equal((0, 0L), (outbox.Pending, outbox.LinesDropped));
    }

    [Fact]
    public void Configure_NoUrl_IsOff()
    {
        var outbox = new YouTubeOutbox(MaxAge);

        outbox.Configure(null, enabled: true, MaxAge, T0);

        Assert.False(outbox.On);
        Assert.Null(outbox.Add([Line("One.", T0)], T0).Send);
    }
}
