using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.Tokens;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Validates each distinct bearer token once, then answers from memory while the answer can still be
/// trusted. A client sends the same token with every request for its whole lifetime, and checking its
/// signature, issuer, audience and lifetime again each time was the largest cost of a read by id.
/// </summary>
/// <remarks>
/// Only valid tokens are kept, so a flood of forged ones costs what it always did and fills nothing. An
/// entry lives until its token expires or for <see cref="MaxAge"/>, whichever comes first: that bounds how
/// long a token signed by a key the identity provider has since withdrawn is still believed. A change to the
/// configured keys starts an empty cache, because the options, and the handlers in them, are built anew.
/// Tokens are keyed by a SHA-256 digest, so the cache holds no credential a memory dump could replay.
/// </remarks>
internal sealed class ValidatedTokenCache(TokenHandler inner, TimeProvider time) : TokenHandler
{
    /// <summary>How long a validated token is believed without being checked again.</summary>
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(60);

    /// <summary>Distinct tokens kept at most; a service sees a few per client, and each entry is about 2 KB.</summary>
    public const int MaxEntries = 10_000;

    private readonly ConcurrentDictionary<UInt128, Entry> entries = new();

    public override async Task<TokenValidationResult> ValidateTokenAsync(string token, TokenValidationParameters validationParameters)
    {
        var (key, now) = (Digest(token), time.GetTimestamp());
        if (Find(key, now) is { } entry)
        {
            return entry.Answer();
        }

        var result = await inner.ValidateTokenAsync(token, validationParameters);
        if (result.IsValid)
        {
            Keep(key, new Entry(result, now + Lifetime(result.SecurityToken)));
        }

        return result;
    }

    /// <summary>
    /// The identity of <paramref name="token"/>, copied for one request, if it was validated a moment ago;
    /// otherwise null, and the token goes through <see cref="ValidateTokenAsync"/>.
    /// </summary>
    public ClaimsIdentity? Identity(ReadOnlySpan<char> token) => Find(Digest(token), time.GetTimestamp())?.Result.ClaimsIdentity.Clone();

    private Entry? Find(UInt128 key, long now)
    {
        if (!entries.TryGetValue(key, out var entry))
        {
            return null;
        }

        if (now < entry.Until)
        {
            return entry;
        }

        entries.TryRemove(KeyValuePair.Create(key, entry));
        return null;
    }

    public override SecurityToken ReadToken(string token) => inner.ReadToken(token);

    /// <summary>
    /// How long, in timestamp ticks, an answer is kept. The monotonic clock counts it, so a change of the
    /// wall clock cannot stretch it; the token's expiry is read against the wall clock, as the handler read it.
    /// </summary>
    private long Lifetime(SecurityToken token)
    {
        var left = token.ValidTo == DateTime.MinValue ? MaxAge : token.ValidTo - DateTime.UtcNow;
        var kept = left < MaxAge ? left : MaxAge;
        return kept <= TimeSpan.Zero ? 0 : (long)(kept.TotalSeconds * time.TimestampFrequency);
    }

    private void Keep(UInt128 key, Entry entry)
    {
        if (entries.Count >= MaxEntries)
        {
            var now = time.GetTimestamp();
            foreach (var (staleKey, stale) in entries)
            {
                if (stale.Until <= now)
                {
                    entries.TryRemove(KeyValuePair.Create(staleKey, stale));
                }
            }

            // Still full of live tokens: start again rather than track which to drop. Each will be
            // validated once more, which is all a miss costs.
            if (entries.Count >= MaxEntries)
            {
                entries.Clear();
            }
        }

        entries[key] = entry;
    }

    /// <summary>The first 128 bits of the token's SHA-256: finding a second token with the same digest is out of reach.</summary>
    private static UInt128 Digest(ReadOnlySpan<char> token)
    {
        var length = Encoding.UTF8.GetMaxByteCount(token.Length);
        var rented = length > 4096 ? ArrayPool<byte>.Shared.Rent(length) : null;
        Span<byte> bytes = rented is null ? stackalloc byte[4096] : rented;
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(bytes[..Encoding.UTF8.GetBytes(token, bytes)], hash);
        if (rented is not null)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }

        return BinaryPrimitives.ReadUInt128LittleEndian(hash);
    }

    private sealed record Entry(TokenValidationResult Result, long Until)
    {
        /// <summary>
        /// A result of its own for each request, with its own copy of the identity: what one request's code
        /// does to its principal never reaches another's.
        /// </summary>
        public TokenValidationResult Answer() => new()
        {
            IsValid = true,
            ClaimsIdentity = Result.ClaimsIdentity.Clone(),
            SecurityToken = Result.SecurityToken,
            Issuer = Result.Issuer,
            TokenType = Result.TokenType,
            TokenContext = Result.TokenContext,
        };
    }
}
