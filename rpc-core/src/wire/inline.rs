//! [`InlineVec`]: a short list that lives on the stack.

use std::fmt;

/// Up to eight `T`s without touching the heap, more on it.
///
/// A `SmallVec` would do, but it is invariant in its item type, and the call plumbing relies on
/// shortening the lifetimes of the borrowed slices it holds; arrays and `Vec`s are covariant.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct InlineVec<T: Copy> {
    inline: [T; 8],
    len: usize,
    heap: Vec<T>,
}

impl<T: Copy> InlineVec<T> {
    /// An empty list; `fill` only initialises unused inline slots.
    pub(crate) fn new_with(fill: T) -> Self {
        InlineVec {
            inline: [fill; 8],
            len: 0,
            heap: Vec::new(),
        }
    }

    /// A list of `n` copies of `value`.
    pub(crate) fn filled(value: T, n: usize) -> Self {
        let mut v = Self::new_with(value);
        for _ in 0..n {
            v.push(value);
        }
        v
    }

    pub(crate) fn push(&mut self, item: T) {
        if self.len < self.inline.len() {
            self.inline[self.len] = item;
        } else {
            if self.heap.is_empty() {
                self.heap.extend_from_slice(&self.inline);
            }
            self.heap.push(item);
        }
        self.len += 1;
    }
}

impl InlineVec<&[u8]> {
    pub(crate) fn new() -> Self {
        Self::new_with(&[])
    }
}

impl<T: Copy> std::ops::Deref for InlineVec<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        if self.heap.is_empty() {
            &self.inline[..self.len]
        } else {
            &self.heap
        }
    }
}

impl<T: Copy> std::ops::DerefMut for InlineVec<T> {
    fn deref_mut(&mut self) -> &mut [T] {
        if self.heap.is_empty() {
            &mut self.inline[..self.len]
        } else {
            &mut self.heap
        }
    }
}

impl<T: Copy + fmt::Debug> fmt::Debug for InlineVec<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::InlineVec;

    #[test]
    fn spills_to_the_heap_past_eight_and_keeps_order() {
        let mut v = InlineVec::new_with(0u32);
        for i in 0..20 {
            v.push(i);
            assert_eq!(&v[..], &(0..=i).collect::<Vec<_>>()[..]);
        }
        let mut f = InlineVec::filled(None::<u8>, 10);
        f[9] = Some(1);
        assert_eq!(f.len(), 10);
        assert_eq!(f[9], Some(1));
    }
}
