using CaptionSidecar.RelayOutput;
using NATS.Client.Core;

namespace CaptionSidecar.Tests.Relay;

public sealed class RelayEndpointTests
{
    private static RelayPublisherOptions Options(string? url, string? stream = "demo") => new() { Url = url, Stream = stream };

    [Fact]
    public void From_UrlWithCredentials_ServerWithoutThemAndPasswordHiddenInDisplay()
    {
        var endpoint = RelayEndpoint.From(Options("nats://sidecar:s3cr%40t@nats.example.org:4333", "My-Stream"));

        Assert.Equal("nats://nats.example.org:4333", endpoint.Server);
        Assert.Equal("nats://sidecar:***@nats.example.org:4333", endpoint.DisplayUrl);
        Assert.Equal("my-stream", endpoint.Stream);
        Assert.Equal("$KV.captions.my-stream.es", endpoint.Subject("es"));
        var opts = endpoint.ToNatsOpts(TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(5));
        Assert.Equal(("sidecar", "s3cr@t"), (opts.AuthOpts.Username, opts.AuthOpts.Password));
        Assert.Equal("nats://nats.example.org:4333", opts.Url);
        Assert.Equal(-1, opts.MaxReconnectRetry);
        Assert.Equal((TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(5)), (opts.ReconnectWaitMin, opts.ReconnectWaitMax));
        Assert.True(opts.ReconnectJitter > TimeSpan.Zero);
    }

    [Fact]
    public void From_TlsWithoutPortAndSettingsCredentials_DefaultPortAndUserFromSettings()
    {
        var endpoint = RelayEndpoint.From(new RelayPublisherOptions { Url = "tls://nats.example.org", User = "sidecar", Password = "pw", Stream = "demo" });

        Assert.Equal("tls://nats.example.org:4222", endpoint.Server);
        Assert.Equal("tls://sidecar:***@nats.example.org:4222", endpoint.DisplayUrl);
        Assert.Equal("pw", endpoint.ToNatsOpts(TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(5)).AuthOpts.Password);
    }

    [Fact]
    public void From_NoStream_TheMachineNameMadeToFit()
    {
        var endpoint = RelayEndpoint.From(Options("nats://127.0.0.1:4222", stream: null));

        Assert.Equal(RelayEndpoint.DefaultStream, endpoint.Stream);
        Assert.Empty(RelayEndpoint.Problems(Options("nats://127.0.0.1:4222", stream: null)));
    }

    [Theory]
    [InlineData("http://127.0.0.1:4222", "nats://")]
    [InlineData("127.0.0.1:4222", "nats://")]
    [InlineData("nats:///nohost", "nats://")]
    [InlineData("nats://127.0.0.1:4222/path", "nats://")]
    public void Problems_BadUrl_SaysWhatItMustBe(string url, string expected)
    {
        var problem = Assert.Single(RelayEndpoint.Problems(Options(url)));

        Assert.Contains("Relay:Url (--relay)", problem, StringComparison.Ordinal);
        Assert.Contains(expected, problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Problems_BadUrlWithPassword_NeverShowsThePassword()
    {
        var problem = Assert.Single(RelayEndpoint.Problems(Options("http://sidecar:hunter2@127.0.0.1:4222")));

        Assert.DoesNotContain("hunter2", problem, StringComparison.Ordinal);
        Assert.Contains("sidecar:***@", problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("has space")]
    [InlineData("dots.not.allowed")]
    [InlineData("")]
    public void Problems_BadStream_SaysTheRule(string stream)
    {
        var problem = Assert.Single(RelayEndpoint.Problems(Options("nats://127.0.0.1:4222", stream)));

        Assert.Contains("Relay:Stream (--relay-stream)", problem, StringComparison.Ordinal);
        Assert.Contains("letters, digits and dashes", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Problems_NoUrl_RelayOffAndNothingToFix()
    {
        Assert.Empty(RelayEndpoint.Problems(new RelayPublisherOptions()));
    }

    [Fact]
    public void Problems_PasswordWithoutUser_AsksForTheUser()
    {
        var problem = Assert.Single(RelayEndpoint.Problems(new RelayPublisherOptions { Url = "nats://127.0.0.1:4222", Password = "pw" }));

        Assert.Contains("no user", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Problems_CredentialsFileMissingOrNotCreds_SaysWhichFile()
    {
        var folder = Directory.CreateTempSubdirectory("relay-creds-");
        try
        {
            var missing = Path.Combine(folder.FullName, "missing.creds");
            var notCreds = Path.Combine(folder.FullName, "not.creds");
            File.WriteAllText(notCreds, "hello");
            var good = Path.Combine(folder.FullName, "good.creds");
            File.WriteAllText(good, "-----BEGIN NATS USER JWT-----\neyJ0\n------END NATS USER JWT------\n-----BEGIN USER NKEY SEED-----\nSUAM\n------END USER NKEY SEED------\n");

            Assert.Contains("cannot be read", Assert.Single(RelayEndpoint.Problems(new RelayPublisherOptions { Url = "nats://h:1", CredentialsFile = missing })), StringComparison.Ordinal);
            Assert.Contains("not a NATS credentials file", Assert.Single(RelayEndpoint.Problems(new RelayPublisherOptions { Url = "nats://h:1", CredentialsFile = notCreds })), StringComparison.Ordinal);
            Assert.Empty(RelayEndpoint.Problems(new RelayPublisherOptions { Url = "nats://h:1", CredentialsFile = good }));
            Assert.Contains("use one of them", Assert.Single(RelayEndpoint.Problems(new RelayPublisherOptions { Url = "nats://u:p@h:1", CredentialsFile = good })), StringComparison.Ordinal);
            Assert.Equal(good, RelayEndpoint.From(new RelayPublisherOptions { Url = "nats://h:1", CredentialsFile = good }).ToNatsOpts(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2)).AuthOpts.CredsFile);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Theory]
    [InlineData("nats://u:pw@h:1", "nats://u:***@h:1")]
    [InlineData("nats://h:1", "nats://h:1")]
    [InlineData("tls://u@h", "tls://u@h")]
    public void Redact_HidesOnlyThePassword(string url, string expected) => Assert.Equal(expected, RelayEndpoint.Redact(url));

    [Fact]
    public void From_InvalidUrl_GivesAnEndpointThatShowsNoPassword()
    {
        // The host builds its services before the options validation stops the start: no exception, no secret.
        var endpoint = RelayEndpoint.From(Options("http://u:hunter2@h:1"));

        Assert.DoesNotContain("hunter2", endpoint.DisplayUrl, StringComparison.Ordinal);
        Assert.IsType<NatsOpts>(endpoint.ToNatsOpts(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2)));
    }
}
