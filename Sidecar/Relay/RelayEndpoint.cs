using System.Globalization;
using System.Text.RegularExpressions;
using CaptionSidecar.Relay;
using NATS.Client.Core;

namespace CaptionSidecar.RelayOutput;

/// <summary>
/// The NATS server, credentials and stream of <see cref="RelayPublisherOptions"/>, checked: what the publisher
/// connects with. The password never leaves this type except into the client's options; <see cref="DisplayUrl"/>
/// shows it as <c>***</c>.
/// </summary>
internal sealed partial class RelayEndpoint
{
    private const int DefaultPort = 4222;

    private RelayEndpoint(string server, string displayUrl, string stream, string? user, string? password, string? credentialsFile)
    {
        Server = server;
        DisplayUrl = displayUrl;
        Stream = stream;
        User = user;
        Password = password;
        CredentialsFile = credentialsFile;
    }

    /// <summary>The server without credentials, for example <c>nats://127.0.0.1:4222</c>.</summary>
    public string Server { get; }

    /// <summary>The URL as logs and status show it: the user, if any, and the password as <c>***</c>.</summary>
    public string DisplayUrl { get; }

    /// <summary>The stream's name, lower case.</summary>
    public string Stream { get; }

    /// <summary>The user, from the URL or <see cref="RelayPublisherOptions.User"/>.</summary>
    public string? User { get; }

    private string? Password { get; }

    /// <summary>The full path of the credentials file, if one is used.</summary>
    public string? CredentialsFile { get; }

    /// <summary>The stream name used when none is configured: this machine's name made to fit.</summary>
    public static string DefaultStream => CaptionSubjects.StreamFromMachine(Environment.MachineName);

    /// <summary>The subject one language of this stream is published to.</summary>
    public string Subject(string language) => CaptionSubjects.Subject(Stream, language);

    /// <summary>What is wrong with <paramref name="options"/>, each as a sentence saying what to fix; empty when they are usable.</summary>
    public static IReadOnlyList<string> Problems(RelayPublisherOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = new List<string>();
        if (options.Stream is { } stream && !CaptionSubjects.IsValidStream(stream))
        {
            problems.Add($"Relay:Stream (--relay-stream) '{stream}' is not a stream name: use 1 to {CaptionSubjects.MaxStreamLength} letters, digits and dashes, for example my-channel.");
        }

        if (string.IsNullOrWhiteSpace(options.Url))
        {
            return problems;
        }

        if (!TryParse(options.Url, out var uri, out var urlUser, out var urlPassword))
        {
            problems.Add($"Relay:Url (--relay) must be nats://[USER:PASSWORD@]HOST:PORT, or tls://... for TLS, not '{Redact(options.Url)}'.");
            return problems;
        }

        var user = urlUser ?? NullIfEmpty(options.User);
        var password = urlPassword ?? NullIfEmpty(options.Password);
        if (password is not null && user is null)
        {
            problems.Add($"Relay:Password is set but no user: put the user in the URL ({uri.Scheme}://USER@{uri.Authority}) or set Relay:User.");
        }

        if (NullIfEmpty(options.CredentialsFile) is { } file)
        {
            if (user is not null || password is not null)
            {
                problems.Add("Relay:CredentialsFile and a user or password are both set: use one of them.");
            }

            if (CredentialsFileProblem(file) is { } problem)
            {
                problems.Add(problem);
            }
        }

        return problems;
    }

    /// <summary>
    /// The endpoint of <paramref name="options"/>. It does not check them (the options validation does, at start,
    /// with <see cref="Problems"/>): the host builds its services before it validates, and a URL that cannot be
    /// parsed gives an endpoint that is never connected.
    /// </summary>
    public static RelayEndpoint From(RelayPublisherOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var stream = (NullIfEmpty(options.Stream) ?? DefaultStream).ToLowerInvariant();
        if (string.IsNullOrWhiteSpace(options.Url) || !TryParse(options.Url, out var uri, out var urlUser, out var urlPassword))
        {
            return new RelayEndpoint("nats://invalid:4222", Redact(options.Url ?? string.Empty), stream, null, null, null);
        }

        var user = urlUser ?? NullIfEmpty(options.User);
        var password = urlPassword ?? NullIfEmpty(options.Password);
        var port = uri.Port > 0 ? uri.Port : DefaultPort;
        var server = string.Create(CultureInfo.InvariantCulture, $"{uri.Scheme}://{uri.Host}:{port}");
        var who = user is null ? string.Empty : password is null ? $"{user}@" : $"{user}:***@";
        var display = string.Create(CultureInfo.InvariantCulture, $"{uri.Scheme}://{who}{uri.Host}:{port}");
        var credentials = NullIfEmpty(options.CredentialsFile) is { } file ? Path.GetFullPath(file) : null;
        return new RelayEndpoint(server, display, stream, user, password, credentials);
    }

    /// <summary>
    /// The client's options: this server and credentials; reconnects without limit, waiting as the product's device
    /// backoff does (<paramref name="firstWait"/> doubling to <paramref name="maxWait"/>, plus up to
    /// <paramref name="firstWait"/> of jitter); a repeated authentication error does not stop the retries (the
    /// operator may fix the server's users while the sidecar runs).
    /// </summary>
    public NatsOpts ToNatsOpts(TimeSpan firstWait, TimeSpan maxWait) => NatsOpts.Default with
    {
        Url = Server,
        Name = "caption-sidecar",
        AuthOpts = CredentialsFile is not null
            ? NatsAuthOpts.Default with { CredsFile = CredentialsFile }
            : NatsAuthOpts.Default with { Username = User, Password = Password },
        MaxReconnectRetry = -1,
        ReconnectWaitMin = firstWait,
        ReconnectWaitMax = maxWait,
        ReconnectJitter = firstWait,
        IgnoreAuthErrorAbort = true,
        RetryOnInitialConnect = false,
    };

    /// <summary><paramref name="url"/> with any password between <c>://USER:</c> and <c>@</c> replaced by <c>***</c>.</summary>
    public static string Redact(string url) => PasswordInUrl().Replace(url ?? string.Empty, "$1***@");

    private static bool TryParse(string text, out Uri uri, out string? user, out string? password)
    {
        user = password = null;
        if (!Uri.TryCreate(text.Trim(), UriKind.Absolute, out uri!)
            || uri.Scheme is not ("nats" or "tls")
            || string.IsNullOrEmpty(uri.Host)
            || uri.AbsolutePath is not ("" or "/")
            || uri.Query.Length > 0)
        {
            return false;
        }

        if (uri.UserInfo.Length > 0)
        {
            var colon = uri.UserInfo.IndexOf(':', StringComparison.Ordinal);
            user = NullIfEmpty(Uri.UnescapeDataString(colon < 0 ? uri.UserInfo : uri.UserInfo[..colon]));
            password = colon < 0 ? null : NullIfEmpty(Uri.UnescapeDataString(uri.UserInfo[(colon + 1)..]));
        }

        return true;
    }

    private static string? CredentialsFileProblem(string file)
    {
        var full = Path.GetFullPath(file);
        string text;
        try
        {
            text = File.ReadAllText(full);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return $"Relay:CredentialsFile '{full}' cannot be read: {ex.Message}";
        }

        return text.Contains("BEGIN NATS USER JWT", StringComparison.Ordinal) && text.Contains("BEGIN USER NKEY SEED", StringComparison.Ordinal)
            ? null
            : $"Relay:CredentialsFile '{full}' is not a NATS credentials file (.creds with a user JWT and its NKEY seed, as 'nsc generate creds' writes).";
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;

    [GeneratedRegex("(://[^:/@]*:)[^@/]*@")]
    private static partial Regex PasswordInUrl();
}
