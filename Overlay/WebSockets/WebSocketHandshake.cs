using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace CaptionSidecar.Overlay.WebSockets;

/// <summary>
/// The server's side of the WebSocket opening handshake over HTTP/1.1 (RFC 6455 section 4.2): checks the request and
/// computes <c>Sec-WebSocket-Accept</c>. No subprotocol and no extension is ever agreed (so no permessage-deflate: the
/// frames stay the same bytes for every client).
/// </summary>
internal static class WebSocketHandshake
{
    /// <summary>The GUID that RFC 6455 appends to the key.</summary>
    private const string KeyGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

    /// <summary>The one version this server speaks, as the 426 answer names it.</summary>
    public const string Version = "13";

    /// <summary>
    /// Checks the upgrade request; null when it is a valid WebSocket handshake, else the status and message to refuse it
    /// with (400 for a malformed request, 426 with <c>Sec-WebSocket-Version: 13</c> for another version).
    /// </summary>
    public static (int Status, string Message)? Check(HttpRequest request)
    {
        if (!HttpMethods.IsGet(request.Method))
        {
            return (StatusCodes.Status400BadRequest, "A WebSocket upgrade is a GET request.");
        }

        if (!HasToken(request.Headers.Upgrade, "websocket"))
        {
            return (StatusCodes.Status400BadRequest, "This is a WebSocket endpoint: send Upgrade: websocket.");
        }

        if (!HasToken(request.Headers.Connection, "upgrade"))
        {
            return (StatusCodes.Status400BadRequest, "A WebSocket upgrade needs Connection: Upgrade.");
        }

        if (request.Headers.SecWebSocketVersion.ToString() != Version)
        {
            return (StatusCodes.Status426UpgradeRequired, "Only WebSocket version 13 is spoken here (Sec-WebSocket-Version: 13).");
        }

        if (!IsValidKey(request.Headers.SecWebSocketKey.ToString()))
        {
            return (StatusCodes.Status400BadRequest, "Sec-WebSocket-Key must be 16 random bytes in base64 (24 characters).");
        }

        return null;
    }

    /// <summary>The <c>Sec-WebSocket-Accept</c> value for <paramref name="key"/>: base64(SHA-1(key + the RFC's GUID)).</summary>
    public static string ComputeAccept(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        // SHA-1 is what RFC 6455 prescribes here; it proves the server read the handshake, not a secret.
#pragma warning disable CA5350
        var hash = SHA1.HashData(Encoding.ASCII.GetBytes(key + KeyGuid));
#pragma warning restore CA5350
        return Convert.ToBase64String(hash);
    }

    /// <summary>True when <paramref name="key"/> is base64 of exactly 16 bytes.</summary>
    internal static bool IsValidKey(string key)
    {
        Span<byte> decoded = stackalloc byte[18];
        return key.Length == 24 && Convert.TryFromBase64String(key, decoded, out var written) && written == 16;
    }

    /// <summary>True when a comma-separated header (any of its values) lists <paramref name="token"/>, case-insensitively.</summary>
    private static bool HasToken(StringValues values, string token)
    {
        foreach (var value in values)
        {
            foreach (var part in (value ?? string.Empty).Split(',', StringSplitOptions.TrimEntries))
            {
                if (string.Equals(part, token, StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }
            }
        }

        return false;
    }
}
