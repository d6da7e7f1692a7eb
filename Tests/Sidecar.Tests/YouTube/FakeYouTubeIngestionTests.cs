using System.Net;
using System.Text;
using CaptionSidecar.Tests.Support;

namespace CaptionSidecar.Tests.YouTube;

/// <summary>The fake YouTube caption ingestion server: each documented check fires, each scripted answer is given,
/// and what is accepted is recorded once per seq. Posts are sent with a plain HttpClient.</summary>
public sealed class FakeYouTubeIngestionTests
{
    private const string TextPlainUtf8 = "text/plain; charset=utf-8";

    private static readonly DateTime T0 = new(2026, 12, 3, 14, 0, 6, 873, DateTimeKind.Utc);

    private static string Time(int plusMs) => YouTubeCaptionBody.FormatTime(new DateTimeOffset(T0.AddMilliseconds(plusMs)));

    private static string Body(params (int PlusMs, string Text)[] entries) =>
        string.Concat(entries.Select(e => $"{Time(e.PlusMs)}\n{e.Text}\n"));

    private static string WithSeq(string url, long seq) => $"{url}&seq={seq}";

    private static Task<HttpResponseMessage> PostAsync(
        HttpClient http, string url, string body, CancellationToken ct, string? contentType = TextPlainUtf8) =>
        PostAsync(http, url, Encoding.UTF8.GetBytes(body), ct, contentType);

    private static async Task<HttpResponseMessage> PostAsync(
        HttpClient http, string url, byte[] body, CancellationToken ct, string? contentType = TextPlainUtf8)
    {
        var content = new ByteArrayContent(body);
        if (contentType is not null)
        {
            Assert.True(content.Headers.TryAddWithoutValidation("Content-Type", contentType));
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = content };
        return await http.SendAsync(request, ct);
    }

    private static async Task<FakeYouTubeIngestion> StartAsync(CancellationToken ct, long? firstSeq = 1, TimeProvider? time = null)
    {
        var fake = new FakeYouTubeIngestion(firstSeq, time);
        await fake.StartAsync(ct);
        return fake;
    }

    /// <summary>Posts one request (seq 1 unless the URL says otherwise) to a new server; returns its status and the problems recorded.</summary>
    private static async Task<(HttpStatusCode Status, IReadOnlyList<string> Problems)> PostOnceAsync(
        string? url, byte[] body, string? contentType, CancellationToken ct)
    {
        await using var fake = await StartAsync(ct);
        using var http = new HttpClient();
        using var response = await PostAsync(http, url is null ? WithSeq(fake.Url, 1) : url.Replace("{URL}", fake.Url, StringComparison.Ordinal), body, ct, contentType);
        Assert.Single(fake.Posts);

        // A post with problems is refused (RefuseBadPosts), a good one accepted.
        Assert.Equal(fake.Problems.Count == 0, fake.Accepted.Count > 0);
        Assert.Equal(fake.Posts[0].Problems.Count, fake.Problems.Count);
        return (response.StatusCode, fake.Problems);
    }

    private static void AssertProblem(IReadOnlyList<string> problems, string expected) =>
        Assert.True(
            problems.Any(p => p.Contains(expected, StringComparison.Ordinal)),
            $"Expected a problem containing '{expected}'; got:\n{string.Join('\n', problems)}");

    [Fact(Timeout = 30000)]
    public async Task Url_LooksLikeAStudioIngestionUrl_WithEveryDocumentedParameter()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var fake = await StartAsync(ct);

        var url = new Uri(fake.Url);
        Assert.Equal("127.0.0.1", url.Host);
        Assert.Equal(FakeYouTubeIngestion.IngestionPath, url.AbsolutePath);
        Assert.Contains("&key=yt_qc", fake.Url, StringComparison.Ordinal);
        Assert.Contains("&sparams=id%2Cns%2Cexpire&", fake.Url, StringComparison.Ordinal);
        Assert.Equal(
            ["cid", "id", "ns", "sparams", "expire", "signature", "key"],
            url.Query.TrimStart('?').Split('&').Select(p => p[..p.IndexOf('=', StringComparison.Ordinal)]));
        Assert.Matches("^[0-9A-F]{40}\\.[0-9A-F]{40}$", fake.UrlParameters["signature"]);
        Assert.DoesNotContain("seq=", fake.Url, StringComparison.Ordinal);
    }

    [Fact(Timeout = 30000)]
    public async Task StreamKeyStyle_HasOnlyTheCid_AndFlagsAnythingElseTheClientAdds()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var fake = new FakeYouTubeIngestion(urlStyle: IngestionUrlStyle.StreamKey);
        await fake.StartAsync(ct);
        using var http = new HttpClient();

        Assert.Matches("^http://127\\.0\\.0\\.1:[0-9]+/closedcaption\\?cid=[a-z0-9]{4}(-[a-z0-9]{4}){3}$", fake.Url);
        using (var ok = await PostAsync(http, WithSeq(fake.Url, 1), Body((0, "x")), ct))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        Assert.Empty(fake.Problems);
        using (await PostAsync(http, $"{fake.Url}&key=yt_qc&seq=2", Body((1, "y")), ct))
        {
        }

        Assert.Equal(["post #2 (seq 2): unexpected query parameter 'key'"], fake.Problems);
    }

    [Fact(Timeout = 30000)]
    public async Task ValidPost_IsAnswered200WithTheServerTime_AndItsEntriesAccepted()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var fake = await StartAsync(ct);
        using var http = new HttpClient();

        using var response = await PostAsync(http, WithSeq(fake.Url, 1), Body((0, "I'M"), (101, "SENDING")), ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var answer = await response.Content.ReadAsStringAsync(ct);
        Assert.True(YouTubeCaptionBody.TryParseTimeLine(answer.TrimEnd('\n'), out _, out _, out var why), why);
        Assert.Empty(fake.Problems);
        Assert.Equal(
            [new IngestedCaption(T0, null, "I'M"), new IngestedCaption(T0.AddMilliseconds(101), null, "SENDING")],
            fake.Accepted);
        Assert.All(fake.Accepted, e => Assert.Equal(DateTimeKind.Utc, e.Time.Kind));
        Assert.Equal([1L], fake.AcceptedSeqs);
        var post = Assert.Single(fake.Posts);
        Assert.Equal(1, post.Index);
        Assert.Equal(1L, post.Seq);
        Assert.Equal("POST", post.Method);
        Assert.Equal(TextPlainUtf8, post.ContentType);
        Assert.EndsWith("&key=yt_qc&seq=1", post.RawQuery, StringComparison.Ordinal);
        Assert.Equal(Body((0, "I'M"), (101, "SENDING")), post.BodyText);
        Assert.Equal(new IngestionAnswer(IngestionOutcome.Answered, 200, answer, TimeSpan.Zero), post.Answer);
        Assert.True(post.Accepted);
        Assert.False(post.IsRetry);
        Assert.Equal(0, post.InFlightAtArrival);
    }

    [Fact(Timeout = 30000)]
    public async Task PlainTextWithoutCharset_AndNoTrailingNewline_AreFine()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var fake = await StartAsync(ct);
        using var http = new HttpClient();

        using var response = await PostAsync(http, WithSeq(fake.Url, 1), $"{Time(0)}\nHELLO", ct, "text/plain");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Empty(fake.Problems);
        Assert.Equal([new IngestedCaption(T0, null, "HELLO")], fake.Accepted);
    }

    [Fact(Timeout = 30000)]
    public async Task RegionSuffix_IsAccepted_AndBrIsKeptInTheText()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var fake = await StartAsync(ct);
        using var http = new HttpClient();

        var body = $"{Time(0)} region:reg1#cue1\nfirst line<br>second line, ünïcödé ✓\n{Time(5)}\nplain\n";
        using var response = await PostAsync(http, WithSeq(fake.Url, 1), body, ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Empty(fake.Problems);
        Assert.Equal(
            [
                new IngestedCaption(T0, "reg1#cue1", "first line<br>second line, ünïcödé ✓"),
                new IngestedCaption(T0.AddMilliseconds(5), null, "plain"),
            ],
            fake.Accepted);
    }

    [Fact(Timeout = 30000)]
    public async Task NewPosts_SeqUpByOne_AreAllAcceptedInOrder()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var fake = await StartAsync(ct);
        using var http = new HttpClient();

        for (var seq = 1; seq <= 3; seq++)
        {
            using var response = await PostAsync(http, WithSeq(fake.Url, seq), Body((seq * 100, $"line {seq}")), ct);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var accepted = await fake.WaitForAcceptedAsync(3, ct);
        Assert.Empty(fake.Problems);
        Assert.Equal(["line 1", "line 2", "line 3"], accepted.Select(e => e.Text));
        Assert.Equal([1L, 2L, 3L], fake.AcceptedSeqs);
    }

    [Fact(Timeout = 30000)]
    public async Task SeqGap_IsReported()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var fake = await StartAsync(ct);
        using var http = new HttpClient();

        using (await PostAsync(http, WithSeq(fake.Url, 1), Body((0, "one")), ct))
        {
        }

        using (await PostAsync(http, WithSeq(fake.Url, 3), Body((10, "three")), ct))
        {
        }

        Assert.Equal(["post #2 (seq 3): seq 3 after 1"], fake.Problems);
    }

    [Fact(Timeout = 30000)]
    public async Task SeqGoingBack_IsReported()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var fake = await StartAsync(ct, firstSeq: 5);
        using var http = new HttpClient();

        using (await PostAsync(http, WithSeq(fake.Url, 5), Body((0, "five")), ct))
        {
        }

        using (await PostAsync(http, WithSeq(fake.Url, 4), Body((10, "four")), ct))
        {
        }

        Assert.Equal(["post #2 (seq 4): seq 4 after 5"], fake.Problems);
    }

    [Fact(Timeout = 30000)]
    public async Task FirstSeq_OtherThanExpected_IsReported_UnlessAnyIsAllowed()
    {
        var ct = TestContext.Current.CancellationToken;
        using var http = new HttpClient();
        await using (var strict = await StartAsync(ct))
        {
            using (await PostAsync(http, WithSeq(strict.Url, 7), Body((0, "seven")), ct))
            {
            }

            Assert.Equal(["post #1 (seq 7): the first post has seq 7, expected 1"], strict.Problems);
        }

        await using var any = await StartAsync(ct, firstSeq: null);
        using (await PostAsync(http, WithSeq(any.Url, 7), Body((0, "seven")), ct))
        {
        }

        using (await PostAsync(http, WithSeq(any.Url, 8), Body((1, "eight")), ct))
        {
        }

        Assert.Empty(any.Problems);
        Assert.Equal([7L, 8L], any.AcceptedSeqs);
    }

    [Fact(Timeout = 30000)]
    public async Task RepeatedSeqWithADifferentBody_IsReported()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var fake = await StartAsync(ct);
        using var http = new HttpClient();

        using (await PostAsync(http, WithSeq(fake.Url, 1), Body((0, "one")), ct))
        {
        }

        using (await PostAsync(http, WithSeq(fake.Url, 1), Body((0, "one, changed")), ct))
        {
        }

        Assert.Equal(["post #2 (seq 1): seq 1 repeated with a different body"], fake.Problems);
        Assert.Equal(["one"], fake.Accepted.Select(e => e.Text));
    }

    [Fact(Timeout = 30000)]
    public async Task NewSeqWithTheSameBody_IsReported()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var fake = await StartAsync(ct);
        using var http = new HttpClient();

        using (await PostAsync(http, WithSeq(fake.Url, 1), Body((0, "one")), ct))
        {
        }

        using (await PostAsync(http, WithSeq(fake.Url, 2), Body((0, "one")), ct))
        {
        }

        Assert.Equal(["post #2 (seq 2): seq 2 has the same body as seq 1 (a retry must keep its seq)"], fake.Problems);
    }

    [Fact(Timeout = 30000)]
    public async Task RetryAfter500_SameSeqAndBody_IsAcceptedOnce()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var fake = await StartAsync(ct);
        fake.EnqueueAnswers(FakeAnswer.Fail(500));
        using var http = new HttpClient();
        var body = Body((0, "one"), (50, "two"));

        using (var failed = await PostAsync(http, WithSeq(fake.Url, 1), body, ct))
        {
            Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);
        }

        Assert.Empty(fake.Accepted);
        using (var retried = await PostAsync(http, WithSeq(fake.Url, 1), body, ct))
        {
            Assert.Equal(HttpStatusCode.OK, retried.StatusCode);
        }

        Assert.Empty(fake.Problems);
        Assert.Equal(["one", "two"], fake.Accepted.Select(e => e.Text));
        Assert.Equal([1L], fake.AcceptedSeqs);
        Assert.Equal([false, true], fake.Posts.Select(p => p.IsRetry));
        Assert.Equal([false, true], fake.Posts.Select(p => p.Accepted));
        Assert.Equal(
            "post #1 POST seq 1 → Answered 500, 2 entries\npost #2 POST seq 1 → Answered 200, 2 entries, retry, accepted\n",
            fake.Describe());
    }

    [Fact(Timeout = 30000)]
    public async Task RetryOfAnAcceptedPost_IsAnswered200_ButNotDoubled()
    {
        // The client cannot tell a lost answer from a lost post, so it retries what YouTube already has.
        var ct = TestContext.Current.CancellationToken;
        await using var fake = await StartAsync(ct);
        using var http = new HttpClient();
        var body = Body((0, "once"));

        for (var i = 0; i < 2; i++)
        {
            using var response = await PostAsync(http, WithSeq(fake.Url, 1), body, ct);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        using (await PostAsync(http, WithSeq(fake.Url, 2), Body((10, "next")), ct))
        {
        }

        Assert.Empty(fake.Problems);
        Assert.Equal(["once", "next"], fake.Accepted.Select(e => e.Text));
        Assert.Equal([1L, 2L], fake.AcceptedSeqs);
        Assert.Equal([true, false, true], fake.Posts.Select(p => p.Accepted));
    }

    [Fact(Timeout = 30000)]
    public async Task MissingSeq_IsReported_AndAnswered400()
    {
        var ct = TestContext.Current.CancellationToken;
        var (status, problems) = await PostOnceAsync("{URL}", Encoding.UTF8.GetBytes(Body((0, "x"))), TextPlainUtf8, ct);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(["post #1 (seq -): seq is missing"], problems);
    }

    [Theory(Timeout = 30000)]
    [InlineData("&key=yt_qc", "", "query parameter key is missing")]
    [InlineData("&key=yt_qc", "&key=other", "key is 'other', must be yt_qc")]
    [InlineData("&key=yt_qc", "&key=yt_qc&key=yt_qc", "query parameter key appears 2 times")]
    [InlineData("&ns=yt-live", "", "query parameter ns is missing")]
    [InlineData("&ns=yt-live", "&ns=other", "query parameter ns is 'other', not the ingestion URL's value")]
    [InlineData("&key=yt_qc", "&key=yt_qc&lang=en", "unexpected query parameter 'lang'")]
    public async Task QueryParameterProblems_AreReported(string replace, string with, string expected)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var fake = await StartAsync(ct);
        using var http = new HttpClient();
        Assert.Contains(replace, fake.Url, StringComparison.Ordinal);

        using var response = await PostAsync(http, WithSeq(fake.Url.Replace(replace, with, StringComparison.Ordinal), 1), Body((0, "x")), ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal([$"post #1 (seq 1): {expected}"], fake.Problems);
        Assert.StartsWith($"Bad request: {expected}", await response.Content.ReadAsStringAsync(ct), StringComparison.Ordinal);
        Assert.Empty(fake.Accepted);
    }

    [Fact(Timeout = 30000)]
    public async Task SignatureOfAnotherUrl_IsReported()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var fake = await StartAsync(ct);
        await using var other = await StartAsync(ct);
        using var http = new HttpClient();

        // The other server's query on this server's address: every signed value differs.
        var url = fake.Url[..fake.Url.IndexOf('?', StringComparison.Ordinal)] + other.Url[other.Url.IndexOf('?', StringComparison.Ordinal)..];
        using (await PostAsync(http, WithSeq(url, 1), Body((0, "x")), ct))
        {
        }

        AssertProblem(fake.Problems, "query parameter signature is '");
        AssertProblem(fake.Problems, "query parameter cid is '");
        AssertProblem(fake.Problems, "query parameter id is '");
    }

    [Theory(Timeout = 30000)]
    [InlineData("&seq=0", "seq '0' is not an integer ≥ 1")]
    [InlineData("&seq=-1", "seq '-1' is not an integer ≥ 1")]
    [InlineData("&seq=one", "seq 'one' is not an integer ≥ 1")]
    [InlineData("&seq=1.0", "seq '1.0' is not an integer ≥ 1")]
    [InlineData("&seq=", "seq '' is not an integer ≥ 1")]
    [InlineData("&seq=1&seq=2", "seq appears 2 times (1, 2)")]
    public async Task BadSeq_IsReported(string seq, string expected)
    {
        var ct = TestContext.Current.CancellationToken;
        var (status, problems) = await PostOnceAsync("{URL}" + seq, Encoding.UTF8.GetBytes(Body((0, "x"))), TextPlainUtf8, ct);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal([$"post #1 (seq -): {expected}"], problems);
    }

    [Theory(Timeout = 30000)]
    [InlineData(null, "Content-Type is missing, must be text/plain")]
    [InlineData("application/json", "Content-Type is 'application/json', must be text/plain")]
    [InlineData("text/html; charset=utf-8", "Content-Type is 'text/html; charset=utf-8', must be text/plain")]
    [InlineData("text/plain; charset=iso-8859-1", "Content-Type charset is 'iso-8859-1', must be utf-8")]
    [InlineData("text/plain; format=flowed", "Content-Type has an unexpected parameter 'format'")]
    public async Task WrongContentType_IsReported(string? contentType, string expected)
    {
        var ct = TestContext.Current.CancellationToken;
        var (status, problems) = await PostOnceAsync(null, Encoding.UTF8.GetBytes(Body((0, "x"))), contentType, ct);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal([$"post #1 (seq 1): {expected}"], problems);
    }

    [Theory(Timeout = 30000)]
    [InlineData("text/plain; charset=UTF-8")]
    [InlineData("Text/Plain; charset=\"utf-8\"")]
    public async Task ContentTypeSpellings_AreFine(string contentType)
    {
        var ct = TestContext.Current.CancellationToken;
        var (status, problems) = await PostOnceAsync(null, Encoding.UTF8.GetBytes(Body((0, "x"))), contentType, ct);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Empty(problems);
    }

    [Theory(Timeout = 30000)]
    [InlineData("2026-12-03 14:00:06.873")]
    [InlineData("2026-12-03T14:00:06.873Z")]
    [InlineData("2026-12-03T14:00:06.873+00:00")]
    [InlineData("2026-12-03T14:00:06")]
    [InlineData("2026-12-03T14:00:06.87")]
    [InlineData("2026-12-03T14:00:06.8731")]
    [InlineData("2026-12-03T14:00.06.873")]
    [InlineData("14:00:06.873")]
    [InlineData("2026-12-03T14:00:06.873 region:")]
    [InlineData("2026-12-03T14:00:06.873  region:reg1")]
    [InlineData(" 2026-12-03T14:00:06.873")]
    [InlineData("2026-13-03T14:00:06.873")]
    [InlineData("2026-12-03T24:00:06.873")]
    public async Task BadTimeFormat_IsReported(string timeLine)
    {
        var ct = TestContext.Current.CancellationToken;
        var (status, problems) = await PostOnceAsync(null, Encoding.UTF8.GetBytes($"{timeLine}\ntext\n"), TextPlainUtf8, ct);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        var problem = Assert.Single(problems);
        Assert.StartsWith($"post #1 (seq 1): line 1 '{timeLine}' is not a time line: ", problem, StringComparison.Ordinal);
    }

    [Fact(Timeout = 30000)]
    public async Task InvalidUtf8_IsReported()
    {
        var ct = TestContext.Current.CancellationToken;
        var body = Encoding.UTF8.GetBytes($"{Time(0)}\ncaf").Concat(new byte[] { 0xE9, 0x0A }).ToArray();
        var (status, problems) = await PostOnceAsync(null, body, TextPlainUtf8, ct);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(["post #1 (seq 1): the body is not valid UTF-8 (bad byte at offset 27)"], problems);
    }

    [Fact(Timeout = 30000)]
    public async Task ByteOrderMark_IsReported()
    {
        var ct = TestContext.Current.CancellationToken;
        var body = new byte[] { 0xEF, 0xBB, 0xBF }.Concat(Encoding.UTF8.GetBytes(Body((0, "x")))).ToArray();
        var (_, problems) = await PostOnceAsync(null, body, TextPlainUtf8, ct);
        Assert.Equal(["post #1 (seq 1): the body starts with a UTF-8 byte order mark"], problems);
    }

    [Fact(Timeout = 30000)]
    public async Task OddLineCount_IsReported()
    {
        var ct = TestContext.Current.CancellationToken;
        var (status, problems) = await PostOnceAsync(null, Encoding.UTF8.GetBytes($"{Time(0)}\none\n{Time(10)}\n"), TextPlainUtf8, ct);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal([$"post #1 (seq 1): line 3 '{Time(10)}' is a time line with no text line after it (odd line count 3)"], problems);
    }

    [Theory(Timeout = 30000)]
    [InlineData("", "the body is empty (at least one time line and one text line are required)")]
    [InlineData("{T}\n\n", "line 2 (text after {T}) is empty")]
    [InlineData("{T}\n   \n", "line 2 (text after {T}) is empty")]
    [InlineData("{T}\none\n\n", "line 3 '' is a time line with no text line after it (odd line count 3)")]
    public async Task EmptyBodyOrText_IsReported(string body, string expected)
    {
        var ct = TestContext.Current.CancellationToken;
        var (status, problems) = await PostOnceAsync(null, Encoding.UTF8.GetBytes(body.Replace("{T}", Time(0), StringComparison.Ordinal)), TextPlainUtf8, ct);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal([$"post #1 (seq 1): {expected.Replace("{T}", Time(0), StringComparison.Ordinal)}"], problems);
    }

    [Fact(Timeout = 30000)]
    public async Task TimesGoingBackWithinAPost_AreReported()
    {
        var ct = TestContext.Current.CancellationToken;
        var (_, problems) = await PostOnceAsync(null, Encoding.UTF8.GetBytes(Body((100, "later"), (100, "same time"), (0, "earlier"))), TextPlainUtf8, ct);
        Assert.Equal([$"post #1 (seq 1): time {Time(0)} on line 5 is earlier than the entry before it ({Time(100)})"], problems);
    }

    [Fact(Timeout = 30000)]
    public async Task TimesGoingBackAcrossAcceptedPosts_AreReported()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var fake = await StartAsync(ct);
        using var http = new HttpClient();

        using (await PostAsync(http, WithSeq(fake.Url, 1), Body((0, "a"), (100, "b")), ct))
        {
        }

        using (await PostAsync(http, WithSeq(fake.Url, 2), Body((100, "same time is fine")), ct))
        {
        }

        using (await PostAsync(http, WithSeq(fake.Url, 3), Body((50, "earlier")), ct))
        {
        }

        Assert.Equal([$"post #3 (seq 3): its first time {Time(50)} is earlier than the last accepted one ({Time(100)})"], fake.Problems);
    }

    [Fact(Timeout = 30000)]
    public async Task CrLfLineEnds_AreAccepted()
    {
        var ct = TestContext.Current.CancellationToken;
        var (status, problems) = await PostOnceAsync(null, Encoding.UTF8.GetBytes($"{Time(0)}\r\none\r\n"), TextPlainUtf8, ct);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Empty(problems);
    }

    [Fact(Timeout = 30000)]
    public async Task WrongMethodOrPath_IsReported()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var fake = await StartAsync(ct);
        using var http = new HttpClient();

        using (var get = await http.GetAsync(new Uri(WithSeq(fake.Url, 1)), ct))
        {
            Assert.Equal(HttpStatusCode.MethodNotAllowed, get.StatusCode);
        }

        using (var elsewhere = await PostAsync(http, WithSeq(fake.Url.Replace("/closedcaption?", "/captions?", StringComparison.Ordinal), 2), Body((0, "x")), ct))
        {
            Assert.Equal(HttpStatusCode.NotFound, elsewhere.StatusCode);
        }

        AssertProblem(fake.Problems, "post #1 (seq 1): method GET, must be POST");
        AssertProblem(fake.Problems, "post #2 (seq 2): path /captions, must be /closedcaption");
        Assert.Empty(fake.Accepted);
    }

    [Fact(Timeout = 30000)]
    public async Task BadPost_WithRefuseBadPostsOff_GetsItsScriptedAnswer_AndIsStillReported()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var fake = await StartAsync(ct);
        fake.RefuseBadPosts = false;
        using var http = new HttpClient();

        using var response = await PostAsync(http, WithSeq(fake.Url, 1), Body((0, "x")), ct, "application/octet-stream");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["post #1 (seq 1): Content-Type is 'application/octet-stream', must be text/plain"], fake.Problems);
        Assert.Equal(["x"], fake.Accepted.Select(e => e.Text));
    }

    [Fact(Timeout = 30000)]
    public async Task Refuse_AnswersTheStatusWithTheReason_AndAcceptsNothing()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var fake = await StartAsync(ct);
        fake.EnqueueAnswers(FakeAnswer.Refuse(403, "Stream is not live"));
        using var http = new HttpClient();

        using (var refused = await PostAsync(http, WithSeq(fake.Url, 1), Body((0, "x")), ct))
        {
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            Assert.Equal("Stream is not live", await refused.Content.ReadAsStringAsync(ct));
        }

        Assert.Empty(fake.Accepted);
        Assert.Empty(fake.Problems);
        Assert.Equal(new IngestionAnswer(IngestionOutcome.Answered, 403, "Stream is not live", TimeSpan.Zero), fake.Posts[0].Answer);

        // The queue is used up: the default answer (Ok) follows.
        using (var next = await PostAsync(http, WithSeq(fake.Url, 2), Body((10, "y")), ct))
        {
            Assert.Equal(HttpStatusCode.OK, next.StatusCode);
        }

        Assert.Equal([2L], fake.AcceptedSeqs);
    }

    [Fact(Timeout = 30000)]
    public async Task Fail_AndDefaultAnswer_AreGivenInOrder()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var fake = await StartAsync(ct);
        fake.EnqueueAnswers(FakeAnswer.Fail(502), FakeAnswer.Ok);
        fake.DefaultAnswer = FakeAnswer.Fail(503);
        using var http = new HttpClient();
        var body = Body((0, "x"));

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++)
        {
            using var response = await PostAsync(http, WithSeq(fake.Url, 1), body, ct);
            statuses.Add(response.StatusCode);
        }

        Assert.Equal([HttpStatusCode.BadGateway, HttpStatusCode.OK, HttpStatusCode.ServiceUnavailable], statuses);
        Assert.Empty(fake.Problems);
        Assert.Equal(["x"], fake.Accepted.Select(e => e.Text));
    }

    [Fact(Timeout = 30000)]
    public async Task Slow_AnswersOnlyAfterTheDelay()
    {
        var ct = TestContext.Current.CancellationToken;
        var time = new TimerSignallingTimeProvider();
        await using var fake = await StartAsync(ct, time: time);
        fake.EnqueueAnswers(FakeAnswer.Slow(TimeSpan.FromSeconds(10), FakeAnswer.Ok));
        using var http = new HttpClient();

        var posting = PostAsync(http, WithSeq(fake.Url, 1), Body((0, "x")), ct);
        Assert.Equal(TimeSpan.FromSeconds(10), await time.NextTimerAsync(ct));
        Assert.False(posting.IsCompleted);
        Assert.Empty(fake.Posts);

        time.Advance(TimeSpan.FromSeconds(10));
        using var response = await posting;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["x"], fake.Accepted.Select(e => e.Text));
        Assert.Equal(new IngestionAnswer(IngestionOutcome.Answered, 200, YouTubeCaptionBody.FormatTime(time.GetUtcNow()) + "\n", TimeSpan.FromSeconds(10)), fake.Posts[0].Answer);
        Assert.Empty(fake.Problems);
    }

    [Fact(Timeout = 30000)]
    public async Task Slow_ClientGivesUp_NothingAccepted_TheRetryIsAcceptedOnce()
    {
        var ct = TestContext.Current.CancellationToken;
        var time = new TimerSignallingTimeProvider();
        await using var fake = await StartAsync(ct, time: time);
        fake.EnqueueAnswers(FakeAnswer.Slow(TimeSpan.FromSeconds(30), FakeAnswer.Ok));
        using var http = new HttpClient();
        var body = Body((0, "x"));

        using (var giveUp = CancellationTokenSource.CreateLinkedTokenSource(ct))
        {
            var posting = PostAsync(http, WithSeq(fake.Url, 1), body, giveUp.Token);
            await time.NextTimerAsync(ct);
            await giveUp.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => posting);
        }

        var posts = await fake.WaitForPostsAsync(1, ct);
        Assert.Equal(new IngestionAnswer(IngestionOutcome.ClientGone, null, string.Empty, TimeSpan.FromSeconds(30)), posts[0].Answer);
        Assert.Empty(fake.Accepted);

        using (var retried = await PostAsync(http, WithSeq(fake.Url, 1), body, ct))
        {
            Assert.Equal(HttpStatusCode.OK, retried.StatusCode);
        }

        Assert.Empty(fake.Problems);
        Assert.Equal(["x"], fake.Accepted.Select(e => e.Text));
        Assert.True(fake.Posts[1].IsRetry);
    }

    [Fact(Timeout = 30000)]
    public async Task Drop_AbortsWithoutAnAnswer_TheRetryIsAcceptedOnce()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var fake = await StartAsync(ct);
        fake.EnqueueAnswers(FakeAnswer.Drop);
        using var http = new HttpClient();
        var body = Body((0, "x"));

        await Assert.ThrowsAnyAsync<HttpRequestException>(() => PostAsync(http, WithSeq(fake.Url, 1), body, ct));
        var dropped = Assert.Single(fake.Posts);
        Assert.Equal(new IngestionAnswer(IngestionOutcome.Dropped, null, string.Empty, TimeSpan.Zero), dropped.Answer);
        Assert.False(dropped.Accepted);
        Assert.Empty(fake.Accepted);

        using (var retried = await PostAsync(http, WithSeq(fake.Url, 1), body, ct))
        {
            Assert.Equal(HttpStatusCode.OK, retried.StatusCode);
        }

        Assert.Empty(fake.Problems);
        Assert.Equal(["x"], fake.Accepted.Select(e => e.Text));
    }

    [Fact(Timeout = 30000)]
    public async Task WaitForAccepted_CompletesWhenTheEntriesArrive()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var fake = await StartAsync(ct);
        using var http = new HttpClient();

        var waiting = fake.WaitForAcceptedAsync(3, ct);
        using (await PostAsync(http, WithSeq(fake.Url, 1), Body((0, "a"), (1, "b")), ct))
        {
        }

        Assert.False(waiting.IsCompleted);
        using (await PostAsync(http, WithSeq(fake.Url, 2), Body((2, "c")), ct))
        {
        }

        Assert.Equal(["a", "b", "c"], (await waiting).Select(e => e.Text));
        Assert.Equal(2, (await fake.WaitForPostsAsync(2, ct)).Count);
    }

    [Fact]
    public void AnswerFactories_RejectStatusesOfTheWrongClass()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => FakeAnswer.Refuse(500, "no"));
        Assert.Throws<ArgumentOutOfRangeException>(() => FakeAnswer.Fail(404));
        Assert.Throws<ArgumentException>(() => FakeAnswer.Slow(TimeSpan.FromSeconds(1), FakeAnswer.Slow(TimeSpan.Zero, FakeAnswer.Ok)));
    }
}
